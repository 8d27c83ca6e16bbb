"""The corpus folder: which files it holds, their hashes and sidecars (no parsing).

A sidecar ``NAME.meta.json`` beside ``NAME`` (e.g. ``report.pdf.meta.json``)
holding ``{"title": ..., "date": "2024-12-04", "organisation": "Croydon", "kind":
"council report"}`` (any of them) overrides what is read from the document.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from qa.corpus.metadata import Overrides, partial_iso
from qa.corpus.organisations import organisation_name
from qa.corpus.readers import SUFFIXES
from qa.corpus.structure import DocumentError
from qa.types import DocumentKind, LoadError

SIDECAR = ".meta.json"


@dataclass(frozen=True)
class CorpusFile:
    source: str
    path: Path
    content_hash: str


def read_sidecar(path: Path) -> Overrides:
    """What the sidecar of ``path`` states, or no overrides when it has none.

    The organisation is written in the normal form of the names read from documents
    ("London Borough of Croydon" → "Croydon"), so it matches them.
    """
    sidecar = path.with_name(path.name + SIDECAR)
    if not sidecar.is_file():
        return Overrides()
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentError(f"sidecar {sidecar.name} is not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise DocumentError(f"sidecar {sidecar.name} must hold a JSON object")
    title = data["title"].strip() if isinstance(data.get("title"), str) else None
    date = None
    if "date" in data:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(data["date"]))
        date = match and partial_iso(*(int(g) if g else None for g in match.groups()))  # type: ignore[arg-type]
        if not date:
            raise DocumentError(f"sidecar {sidecar.name}: date must be YYYY, YYYY-MM or YYYY-MM-DD")
    organisation = None
    if "organisation" in data:
        value = data["organisation"]
        organisation = organisation_name(value) if isinstance(value, str) else None
        if not organisation:
            raise DocumentError(
                f"sidecar {sidecar.name}: organisation must name a council or body, got {value!r}"
            )
    kind = None
    if "kind" in data:
        try:
            kind = DocumentKind.from_str(str(data["kind"]))
        except ValueError as error:
            raise DocumentError(f"sidecar {sidecar.name}: kind {error}") from None
    return Overrides(title=title or None, date=date, organisation=organisation, kind=kind)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def file_hash(path: Path) -> str:
    """Hash of the file and its sidecar: a change to either means the document changed."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sidecar = path.with_name(path.name + SIDECAR)
    if sidecar.is_file():
        digest.update(b"\0sidecar\0" + sidecar.read_bytes())
    return digest.hexdigest()


def scan_corpus(root: Path) -> tuple[list[CorpusFile], list[LoadError]]:
    """Every candidate file under ``root`` with its hash, without parsing any.

    Hidden files and sidecars are skipped; links pointing outside ``root`` are
    refused so a corpus cannot pull in files from elsewhere. A name that is not
    valid UTF-8 (a Latin-1 name from an old zip) is reported, not indexed: the
    index stores sources as UTF-8 text and could not be saved.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder {root} does not exist")
    real_root = root.resolve()
    files: list[CorpusFile] = []
    errors: list[LoadError] = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or path.name.endswith(SIDECAR):
            continue
        source = relative.as_posix()
        if not _is_utf8(source):
            shown = source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            errors.append(LoadError(shown, "file name is not valid UTF-8 (rename the file)"))
            continue
        if path.is_symlink():
            try:
                target = path.resolve()
            except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
                errors.append(LoadError(source, "symbolic link that loops or cannot be resolved"))
                continue
            if not target.is_relative_to(real_root):
                errors.append(
                    LoadError(
                        source, "symbolic link to a file outside the corpus folder (not followed)"
                    )
                )
                continue
        if not path.is_file():
            continue
        if path.suffix.lower() not in SUFFIXES:
            errors.append(
                LoadError(
                    source,
                    f"unsupported file type '{path.suffix or '(none)'}'"
                    f" (supported: {', '.join(sorted(SUFFIXES))})",
                )
            )
            continue
        try:
            files.append(CorpusFile(source, path, file_hash(path)))
        except OSError as error:
            errors.append(LoadError(source, f"cannot read file ({error.strerror or error})"))
    return files, errors
