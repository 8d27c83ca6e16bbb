"""The settings `streamlit run app.py` reads from .streamlit/config.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path

import streamlit.config

from qa.settings import Settings
from qa.uploads import upload_cap_mib, upload_cap_problem

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


def test_the_server_refuses_uploads_over_max_file_mb_as_they_arrive() -> None:
    """Streamlit's own cap of 200 MB took in files of 150 and 199 MB, held in memory, that
    max_file_mb (100 MB) then refused; the cap in MiB is the smallest that lets 100 MB in."""
    assert options()["server.maxUploadSize"] == upload_cap_mib(Settings().max_file_mb) == 96
    assert (96 - 1) * 2**20 < 100_000_000 <= 96 * 2**20


def test_a_server_upload_cap_that_disagrees_with_max_file_mb_is_named_with_its_fix() -> None:
    assert upload_cap_problem(100, 96) is None
    assert upload_cap_problem(100, 200) == (
        "The server's upload limit does not match the setting max_file_mb: the server holds"
        " uploads of up to 210 MB in memory before refusing those over max_file_mb (100 MB)."
        " Set maxUploadSize = 96 under [server] in .streamlit/config.toml."
    )
    assert "uploads over 52 MB are refused although max_file_mb allows 100 MB" in str(
        upload_cap_problem(100, 50)
    )
