"""The settings `streamlit run app.py` reads from .streamlit/config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit.config

CONFIG = Path(__file__).resolve().parents[1] / ".streamlit" / "config.toml"


def options() -> dict[str, object]:
    sections = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    return {
        f"{s}.{name}": value for s, values in sections.items() for name, value in values.items()
    }


def test_every_setting_is_one_streamlit_knows() -> None:
    # Streamlit ignores a misspelt or misplaced setting without a word.
    assert set(options()) <= set(streamlit.config.get_config_options())


def test_the_server_watches_no_files() -> None:
    # Watching the repository took in its 2.4 GB .venv and flooded the log with
    # "Inotify queue overflowed".
    assert options()["server.fileWatcherType"] == "none"
