"""One frozen Settings object, read in layers so that each user can keep several corpora.

Precedence, lowest first: built-in defaults → ``[tool.qa]`` in the nearest
``pyproject.toml`` (searched from the working directory upwards) → ``QA_*``
environment variables (``QA_CORPUS``, ``QA_CHUNK_SIZE``, ...) → command-line flags.
Relative paths in ``pyproject.toml`` are relative to that file; elsewhere to the
working directory.

Example::

    settings = load_settings(overrides={"corpus": "other/corpus"})
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qa.types import Backend, Choice, Diversity, Fusion

if TYPE_CHECKING:
    from qa.corpus.structure import ReadLimits

BUNDLED_MODEL = "bundled:all-MiniLM-L6-v2"
BGE_SMALL_MODEL = "bundled:bge-small-en-v1.5"
"""The two models shipped in Python packages (no download): see :mod:`qa.index.embedders`."""


class SettingsError(ValueError):
    """A setting has a value that cannot be used; the message names it."""


@dataclass(frozen=True)
class Settings:
    """Everything a build or a search depends on.

    ``chunk_size`` and ``chunk_overlap`` are in characters; the defaults were
    chosen by measurement with ``qa eval`` (see README, "How good is it").
    ``min_similarity`` is the cosine similarity below which the best passage is
    reported as a weak match (low confidence).
    ``fusion`` is "weighted" (equal weights on min-max normalised BM25 and cosine
    scores) by default: on the reference questions it reached recall@5 0.86
    against 0.77 for reciprocal rank fusion ("rrf"), which lets a weak dense rank
    outvote a strong exact-term match. ``rrf_k`` damps the weight of top ranks in
    RRF: 60 is the value of Cormack et al. (2009).
    ``time_boost``, ``organisation_boost``, ``role_holder_boost``, ``diversity``,
    ``side_quota`` and ``mmr_lambda`` shape the final top k (see :mod:`qa.pipeline.select`); ``duplicate_overlap`` is the share of shared word
    4-grams above which two passages of one document are folded into one hit.
    From ``ann_threshold`` passages on, dense search uses an HNSW graph (``ann_m`` links
    per node, ``ann_ef_construction`` and ``ann_ef_search`` candidates when building and
    searching; all take effect at the next build) instead of exact search: the values keep
    recall@10 against exact search at 0.99 or more (README, "Speed and scale").
    ``rerank_depth`` is how many of the best fused candidates a cross-encoder rereads
    (:mod:`qa.pipeline.rerank`; 0, the default, skips the stage) and ``rerank_weight`` its
    share against the fused score (1: the cross-encoder's order alone).
    Questions about recommendations and grades use the tracked items and the judgement
    records only in a corpus of at most ``track_up_to_documents`` documents, or once they
    have been read (the Recommendations and Judgements tabs, ``qa recommendations``, ``qa
    judgements``): tracking takes about 0.4 s per document, judgements about 4 ms a passage.
    ``backend`` chooses what searches the rows: the index folder's own BM25 matrix and FAISS
    index ("embedded"), or a Milvus collection per version ("milvus", at ``milvus_uri``: a
    server's address, or a Milvus Lite file, by default ``milvus.db`` in the index folder).
    With ``workers`` above 1 a build embeds on Ray with that many model processes, on a
    local Ray started for the build or on the cluster at ``ray_address``.

    What one file may cost is bounded beyond ``max_file_mb`` (RELIABILITY.md, section 3),
    each limit named in the message of a file it refuses. ``max_document_chars``: text per
    document; 2,000,000 characters are about 740 pages of the 17 Ofsted reports (2,700 per
    page; their longest has 37,843), read in about 20 s and embedded as about 2,900 passages
    in about 100 s at 30 passages/s. ``max_document_chunks``: passages per document, 5,000
    (the reports make one per 650-750 characters, so 2,000,000 characters make about 2,900;
    a document of one-line sections makes far more). ``max_pages``: pages per PDF, 5,000
    (pages without text still cost about 1 ms each: 3,000 read in 2.5 s).
    ``max_read_seconds`` and ``max_read_memory_mb`` stop a reader that outruns them (see
    :mod:`qa.corpus.worker`): 120 s is six times the longest read the other limits allow
    here, and 2,000 MB of address space holds the largest (a PDF of 2,000,000 characters,
    about 1.1 GB) with room to spare.
    """

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model: str = BUNDLED_MODEL
    chunk_size: int = 1000
    chunk_overlap: int = 150
    chunk_context: bool = True
    fusion: Fusion = Fusion.WEIGHTED
    rrf_k: int = 60
    lexical_weight: float = 0.5
    candidates: int = 100
    top_k: int = 5
    min_similarity: float = 0.25
    max_file_mb: float = 100.0
    max_document_chars: int = 2_000_000
    max_document_chunks: int = 5_000
    max_pages: int = 5_000
    max_read_seconds: float = 120.0
    max_read_memory_mb: float = 2_000.0
    batch_size: int = 32
    time_boost: float = 0.1
    organisation_boost: float = 0.5
    role_holder_boost: float = 0.5
    diversity: Diversity = Diversity.SIDES
    side_quota: int = 3
    mmr_lambda: float = 0.7
    duplicate_overlap: float = 0.5
    ann_threshold: int = 50_000
    ann_m: int = 32
    ann_ef_construction: int = 40
    ann_ef_search: int = 1024
    track_up_to_documents: int = 50
    rerank_depth: int = 0
    rerank_weight: float = 1.0
    backend: Backend = Backend.EMBEDDED
    milvus_uri: str = ""
    workers: int = 1
    ray_address: str = ""

    def __post_init__(self) -> None:
        for choice in fields(self):
            kind = _CHOICES.get(str(choice.type))
            if kind is not None:
                try:
                    value = kind.from_str(str(getattr(self, choice.name)))
                except ValueError as error:
                    raise SettingsError(f"{choice.name} {error}") from None
                object.__setattr__(self, choice.name, value)
        if self.chunk_size < 200:
            raise SettingsError(
                f"chunk_size must be at least 200 characters, got {self.chunk_size}"
            )
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise SettingsError(
                f"chunk_overlap must be between 0 and half of chunk_size ({self.chunk_size // 2}),"
                f" got {self.chunk_overlap}"
            )
        if not 0.0 <= self.lexical_weight <= 1.0:
            raise SettingsError(
                f"lexical_weight must be between 0 and 1, got {self.lexical_weight}"
            )
        for name in (
            "rrf_k",
            "candidates",
            "top_k",
            "batch_size",
            "ann_threshold",
            "ann_m",
            "ann_ef_construction",
            "ann_ef_search",
            "workers",
            "max_document_chars",
            "max_document_chunks",
            "max_pages",
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("mmr_lambda", "duplicate_overlap", "rerank_weight"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise SettingsError(f"{name} must be between 0 and 1, got {getattr(self, name)}")
        boosts = (self.time_boost, self.organisation_boost, self.role_holder_boost)
        if min(*boosts, self.side_quota, self.track_up_to_documents) < 0:
            raise SettingsError(
                "time_boost, organisation_boost, role_holder_boost, side_quota and"
                " track_up_to_documents must not be negative"
            )
        if self.rerank_depth < 0:
            raise SettingsError(f"rerank_depth must not be negative, got {self.rerank_depth}")
        for name in ("max_file_mb", "max_read_seconds", "max_read_memory_mb"):
            if getattr(self, name) <= 0:
                raise SettingsError(f"{name} must be positive, got {getattr(self, name)}")

    @property
    def max_file_bytes(self) -> int:
        """``max_file_mb`` in bytes. Every scan of the corpus must use this same limit: a file
        over it is left out unread, so two limits would disagree about what the corpus holds."""
        return int(self.max_file_mb * 1_000_000)

    @property
    def milvus_location(self) -> str:
        """Where the Milvus collections are: ``milvus_uri``, else a Milvus Lite file in the
        index folder (one process at a time can open it; a server serves many)."""
        return self.milvus_uri or str(self.index / "milvus.db")

    @property
    def read_limits(self) -> ReadLimits:
        """What reading one file may cost, for :mod:`qa.corpus`."""
        from qa.corpus.structure import ReadLimits

        return ReadLimits(
            max_bytes=self.max_file_bytes,
            max_chars=self.max_document_chars,
            max_pages=self.max_pages,
            max_seconds=self.max_read_seconds,
            max_memory_bytes=int(self.max_read_memory_mb * 1_000_000),
        )

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


_CHOICES: dict[str, type[Choice]] = {"Fusion": Fusion, "Diversity": Diversity, "Backend": Backend}


def _field_types() -> dict[str, type]:
    types: dict[str, type] = {
        "Path": Path,
        "str": str,
        "int": int,
        "float": float,
        "bool": bool,
        **_CHOICES,
    }
    return {f.name: types[str(f.type)] for f in fields(Settings)}


def _coerce(name: str, value: Any, origin: str, base: Path) -> Any:
    kind: Any = _field_types()[name]
    try:
        if kind is Path:
            path = Path(os.path.expanduser(str(value)))
            return path if path.is_absolute() else base / path
        if kind is int and isinstance(value, float):
            raise ValueError("not a whole number")
        if issubclass(kind, Choice):
            return kind.from_str(str(value))
        if kind is bool:
            return _boolean(value)
        return kind(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(
            f"{origin}: {name} = {value!r} is not a valid {kind.__name__}"
        ) from error


def _boolean(value: Any) -> bool:
    """A TOML boolean, or the words people put in environment variables ("true", "0")."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "1": True, "yes": True, "on": True}
    words |= {"false": False, "0": False, "no": False, "off": False}
    try:
        return words[str(value).strip().lower()]
    except KeyError:
        raise ValueError("not true or false") from None


def find_pyproject(start: Path) -> Path | None:
    """The nearest pyproject.toml at or above ``start`` that has a [tool.qa] table."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            if "qa" in data.get("tool", {}):
                return candidate
    return None


def load_settings(
    overrides: dict[str, Any] | None = None,
    cwd: Path | None = None,
    environ: dict[str, str] | None = None,
) -> Settings:
    """Settings from defaults, pyproject.toml, environment and ``overrides`` (flags)."""
    cwd = (cwd or Path.cwd()).resolve()
    environ = dict(os.environ) if environ is None else environ
    known = _field_types()
    values: dict[str, Any] = {"corpus": cwd / "corpus", "index": cwd / "index"}

    pyproject = find_pyproject(cwd)
    if pyproject is not None:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["qa"]
        for key, value in table.items():
            name = key.replace("-", "_")
            if name not in known:
                raise SettingsError(f"{pyproject}: unknown setting [tool.qa] {key}")
            values[name] = _coerce(name, value, str(pyproject), pyproject.parent)

    for name in known:
        env_name = f"QA_{name.upper()}"
        if env_name in environ and environ[env_name] != "":
            values[name] = _coerce(name, environ[env_name], f"environment {env_name}", cwd)

    for name, value in (overrides or {}).items():
        if value is None:
            continue
        if name not in known:
            raise SettingsError(f"unknown setting {name}")
        values[name] = _coerce(name, value, f"--{name.replace('_', '-')}", cwd)

    return Settings(**values)
