"""Settings layers: defaults < pyproject.toml [tool.qa] < QA_* environment < flags."""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.settings import BUNDLED_MODEL, Settings, SettingsError, load_settings


def write_pyproject(folder: Path, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "pyproject.toml"
    path.write_text(f'[project]\nname = "x"\n\n[tool.qa]\n{table}\n', encoding="utf-8")
    return path


def test_defaults_without_any_configuration(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.corpus == tmp_path / "corpus"
    assert settings.index == tmp_path / "index"
    assert settings.model == BUNDLED_MODEL
    # Everything else is the built-in default (those values are tuned by `qa eval`, not fixed here).
    assert settings.replace(corpus=Settings.corpus, index=Settings.index) == Settings()


def test_each_layer_overrides_the_one_below(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "chunk-size = 800\ntop_k = 7\nlexical-weight = 0.3\ncandidates = 50")
    environ = {"QA_CHUNK_SIZE": "900", "QA_TOP_K": "9"}
    settings = load_settings(overrides={"chunk_size": 1200}, cwd=tmp_path, environ=environ)
    assert settings.chunk_size == 1200  # flag beats environment and pyproject
    assert settings.top_k == 9  # environment beats pyproject
    assert settings.lexical_weight == 0.3  # pyproject beats default
    assert settings.candidates == 50
    assert settings.chunk_overlap == 150  # default


def test_none_override_means_flag_not_given(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"chunk_size": None, "top_k": 3}, cwd=tmp_path, environ={"QA_CHUNK_SIZE": "700"}
    )
    assert settings.chunk_size == 700
    assert settings.top_k == 3


def test_empty_environment_variable_is_ignored(tmp_path: Path) -> None:
    assert load_settings(cwd=tmp_path, environ={"QA_CHUNK_SIZE": ""}).chunk_size == 1000


def test_pyproject_paths_are_relative_to_the_pyproject_file(tmp_path: Path) -> None:
    write_pyproject(tmp_path / "project", 'corpus = "docs/corpus"\nindex = "build/index"')
    work = tmp_path / "project" / "sub" / "dir"
    work.mkdir(parents=True)
    settings = load_settings(cwd=work, environ={})
    assert settings.corpus == tmp_path / "project" / "docs" / "corpus"
    assert settings.index == tmp_path / "project" / "build" / "index"


def test_environment_and_flag_paths_are_relative_to_the_working_directory(tmp_path: Path) -> None:
    settings = load_settings(
        overrides={"index": "my-index"}, cwd=tmp_path, environ={"QA_CORPUS": "other"}
    )
    assert settings.corpus == tmp_path / "other"
    assert settings.index == tmp_path / "my-index"
    absolute = tmp_path / "abs"
    assert (
        load_settings(overrides={"corpus": str(absolute)}, cwd=tmp_path, environ={}).corpus
        == absolute
    )


def test_pyproject_without_tool_qa_is_skipped_for_the_one_above(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "chunk_size = 600")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text('[project]\nname = "inner"\n', encoding="utf-8")
    assert load_settings(cwd=inner, environ={}).chunk_size == 600


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"QA_CHUNK_SIZE": "big"}, "QA_CHUNK_SIZE"),
        ({"QA_CHUNK_SIZE": "100"}, "chunk_size"),
        ({"QA_CHUNK_OVERLAP": "600"}, "chunk_overlap"),
        ({"QA_FUSION": "max"}, "fusion"),
        ({"QA_LEXICAL_WEIGHT": "1.5"}, "lexical_weight"),
        ({"QA_TOP_K": "0"}, "top_k"),
        ({"QA_RRF_K": "-1"}, "rrf_k"),
        ({"QA_MAX_FILE_MB": "0"}, "max_file_mb"),
        ({"QA_MIN_SIMILARITY": "high"}, "min_similarity"),
        ({"QA_RERANK_DEPTH": "-5"}, "rerank_depth"),
        ({"QA_RERANK_WEIGHT": "2"}, "rerank_weight"),
    ],
)
def test_invalid_values_name_the_setting(
    tmp_path: Path, environ: dict[str, str], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(cwd=tmp_path, environ=environ)


def test_invalid_pyproject_value_names_file_and_setting(tmp_path: Path) -> None:
    pyproject = write_pyproject(tmp_path, "chunk_size = 1000.5")
    with pytest.raises(SettingsError) as error:
        load_settings(cwd=tmp_path, environ={})
    assert str(pyproject) in str(error.value)
    assert "chunk_size" in str(error.value)


def test_unknown_pyproject_setting_is_an_error(tmp_path: Path) -> None:
    write_pyproject(tmp_path, "chunk-sise = 800")
    with pytest.raises(SettingsError, match=r"unknown setting.*chunk-sise"):
        load_settings(cwd=tmp_path, environ={})


def test_unknown_override_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="unknown setting colour"):
        load_settings(overrides={"colour": "blue"}, cwd=tmp_path, environ={})


def test_invalid_flag_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="--chunk-size"):
        load_settings(overrides={"chunk_size": "lots"}, cwd=tmp_path, environ={})


def test_settings_validate_when_built_directly() -> None:
    with pytest.raises(SettingsError, match="chunk_overlap"):
        Settings(chunk_size=400, chunk_overlap=200)
    assert Settings(chunk_size=400, chunk_overlap=199).chunk_overlap == 199
    with pytest.raises(SettingsError, match="chunk_size"):
        Settings().replace(chunk_size=199)
