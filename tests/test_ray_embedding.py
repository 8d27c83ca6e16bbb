"""`qa index --workers N`: embedding on a local Ray cluster gives the single-process vectors,
moves the progress bar and resumes from the shards it saved."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from tqdm import tqdm

import qa.index.checkpoint
from qa.cli import main
from qa.index.build import build_index
from qa.index.checkpoint import FOLDER
from qa.index.embedders import HashingEmbedder
from qa.index.store import IndexStore
from qa.search import Searcher
from qa.settings import Settings

from .conftest import SHIPPED_CORPUS
from .test_resume import many_passages  # noqa: F401  (a fixture)

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:  # starting Ray and its two workers takes 10-20 s
    """A local Ray of two CPUs, so two actors, each its own worker process; they import this
    checkout's qa, as a build that starts its own Ray arranges."""
    package = Path(qa.__file__).resolve().parent
    with pytest.MonkeyPatch.context() as patch:
        # Ray waits 30 s for its control process to start, which two busy cores can exceed
        # (seen here at a load average of 6); a slow start is not what these tests test.
        patch.setenv("RAY_gcs_server_port_wait_time_s", "180")
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            log_to_driver=False,
            runtime_env={"py_modules": [str(package)]},
        )
    yield
    ray.shutdown()


@pytest.mark.slow
def test_qa_index_with_two_workers_gives_the_vectors_of_a_build_in_one_process(
    local_ray: None,
    real_searcher: Searcher,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The default model is an INT8 export whose vectors depend on which passages share a
    batch; Ray runs the very batches one process runs, so the vectors are equal bit for bit."""
    index = tmp_path / "index"
    flags = ["--corpus", str(SHIPPED_CORPUS), "--index", str(index)]
    assert main(["index", "--workers", "2", *flags]) == 0
    chunks = len(real_searcher.snapshot.chunks)
    assert f"{chunks}/{chunks}" in capsys.readouterr().err  # the progress bar got to the end
    on_ray = IndexStore(index).load()
    assert np.array_equal(on_ray.embeddings, real_searcher.snapshot.embeddings)
    assert list(on_ray.chunks) == list(real_searcher.snapshot.chunks)


class StopAfter:
    """A progress bar that stops the build like Ctrl-C once ``limit`` passages are embedded
    (the bars of other units, such as files read, only count along)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.done: list[int] = []

    def __call__(self, total: int, description: str, unit: str = "passage") -> Any:
        return self if unit == "passage" else tqdm(total=total, disable=True)

    def update(self, n: int) -> None:
        self.done.append(n)
        if sum(self.done) >= self.limit:
            raise KeyboardInterrupt

    def close(self) -> None:
        pass


@pytest.mark.slow
def test_an_interrupted_build_on_ray_resumes_from_the_shards_it_saved(
    local_ray: None,
    many_passages: Settings,  # noqa: F811
    tmp_path: Path,
) -> None:
    on_ray = many_passages.replace(workers=2)
    with pytest.raises(KeyboardInterrupt):
        build_index(on_ray, HashingEmbedder(), progress=StopAfter(200))
    assert IndexStore(on_ray.index).current() is None
    saved = len(list((on_ray.index / FOLDER).rglob("shard-*.npz")))
    assert saved >= 2  # 200 passages done: at least two whole shards of 64

    resumed = StopAfter(10**9)
    build_index(on_ray, HashingEmbedder(), progress=resumed)
    assert resumed.done[0] >= saved * 64  # the first update counts the passages reused
    reference = many_passages.replace(index=tmp_path / "in-one-process")
    build_index(reference, HashingEmbedder())
    assert np.array_equal(
        IndexStore(on_ray.index).load().embeddings, IndexStore(reference.index).load().embeddings
    )
    assert not (on_ray.index / FOLDER).exists()


def test_without_ray_a_build_with_workers_says_what_to_install(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import builtins

    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(qa.settings.SettingsError, match=r"pip install -e '\.\[scale\]'"):
        build_index(settings.replace(workers=2), HashingEmbedder())
