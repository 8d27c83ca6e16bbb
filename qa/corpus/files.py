"""The corpus folder: which files it holds, their hashes and sidecars (no parsing).

A sidecar ``NAME.meta.json`` beside ``NAME`` (e.g. ``report.pdf.meta.json``)
holding ``{"title": ..., "date": "2024-12-04", "organisation": "Croydon", "kind":
"council report"}`` (any of them) overrides what is read from the document.

Only regular files are read, and none beyond its limit: a file over ``max_file_mb`` is
refused by its size before a byte of it is hashed, a sidecar over SIDECAR_MAX_BYTES
likewise, and a named pipe, socket or device is reported by name, never opened to wait
on or read without end. A folder that cannot be listed is reported too.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from qa.corpus.dates import partial_iso
from qa.corpus.metadata import Overrides
from qa.corpus.organisations import organisation_name
from qa.corpus.readers import SUFFIXES
from qa.corpus.structure import DocumentError
from qa.filesystem import kind_of, open_regular, read_bounded, sha256_of
from qa.types import DocumentKind, LoadError

SIDECAR = ".meta.json"
SIDECAR_MAX_BYTES = 64 << 10
"""A sidecar states four short fields; a larger one is refused rather than read into memory."""


@dataclass(frozen=True)
class CorpusFile:
    source: str
    path: Path
    content_hash: str


def oversize_reason(size: int, max_bytes: int) -> str:
    """Why a file of ``size`` bytes is not read, naming the setting that allows it."""
    return (
        f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit"
        " (setting max_file_mb)"
    )


def _sidecar_bytes(path: Path) -> bytes | None:
    """The bytes of the sidecar of ``path``, None if it has none; DocumentError if it is
    not a regular file or over SIDECAR_MAX_BYTES."""
    sidecar = path.with_name(path.name + SIDECAR)
    try:
        return read_bounded(sidecar, SIDECAR_MAX_BYTES)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise DocumentError(
            f"sidecar {sidecar.name} cannot be read ({error.strerror or error})"
        ) from error


def read_sidecar(path: Path) -> Overrides:
    """What the sidecar of ``path`` states, or no overrides when it has none.

    The organisation is written in the normal form of the names read from documents
    ("London Borough of Croydon" → "Croydon"), so it matches them.
    """
    sidecar = path.with_name(path.name + SIDECAR)
    raw = _sidecar_bytes(path)
    if raw is None:
        return Overrides()
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
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


def _shown(name: str) -> str:
    """A name that may hold undecodable bytes, made printable (``caf\\xe9`` → ``caf�``)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def file_hash(path: Path) -> str:
    """Hash of the file and its sidecar: a change to either means the document changed.

    Only a regular file is opened (OSError otherwise); DocumentError if the sidecar is
    not a regular file or is too large.
    """
    with open_regular(path) as handle:
        digest = sha256_of(handle)
    sidecar = _sidecar_bytes(path)
    if sidecar is not None:
        digest.update(b"\0sidecar\0" + sidecar)
    return digest.hexdigest()


def file_state(path: Path) -> tuple[int, ...]:
    """What any write to the file or its sidecar changes: device, inode, size, modification
    and change times (the kernel sets the change time at every write, and nothing can set it
    back). Equal before and after a read, it says the file was not written meanwhile, even by
    a writer that left it as it found it; OSError if the file itself is gone."""
    state: list[int] = []
    for candidate in (path, path.with_name(path.name + SIDECAR)):
        try:
            status = candidate.stat()
        except FileNotFoundError:
            if candidate == path:
                raise
            state.append(-1)
            continue
        state += [
            status.st_dev,
            status.st_ino,
            status.st_size,
            status.st_mtime_ns,
            status.st_ctime_ns,
        ]
    return tuple(state)


def _link_problem(path: Path, real_root: Path) -> str | None:
    """Why the symbolic link ``path`` is not followed, or None if it stays in the corpus."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError):  # a loop of links (RuntimeError before Python 3.13)
        return "symbolic link that loops or cannot be resolved"
    if not target.is_relative_to(real_root):
        return "symbolic link to a file outside the corpus folder (not followed)"
    return None


def _entries(root: Path, errors: list[LoadError]) -> list[Path]:
    """Every entry under ``root`` but folders and hidden names, sorted (links to folders are
    entries, checked like other links, never descended). A folder that cannot be listed is
    reported in ``errors``: its files would otherwise vanish from the index without a word."""

    def unreadable(error: OSError) -> None:
        folder = Path(error.filename) if error.filename else root
        shown = _shown(folder.relative_to(root).as_posix()) if folder != root else "."
        errors.append(LoadError(f"{shown}/", f"folder cannot be read ({error.strerror or error})"))

    entries: list[Path] = []
    for folder, subfolders, names in os.walk(root, onerror=unreadable):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        base = Path(folder)
        entries += [base / name for name in names if not name.startswith(".")]
        entries += [base / name for name in subfolders if (base / name).is_symlink()]
    return sorted(entries)


def scan_corpus(root: Path, max_bytes: int) -> tuple[list[CorpusFile], list[LoadError]]:
    """Every candidate file under ``root`` with its hash, without parsing any.

    Hidden files and sidecars are skipped; links pointing outside ``root`` are
    refused so a corpus cannot pull in files from elsewhere. A hard link is a file like
    any other: whoever can make one could copy the file in (RELIABILITY.md, section 3).
    A name that is not valid UTF-8 (a Latin-1 name from an old zip) is reported, not
    indexed: the index stores sources as UTF-8 text and could not be saved. A file over
    ``max_bytes`` is reported from its size alone, never hashed; what is not a regular
    file (a pipe, a socket, a device) is reported, never opened.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder {root} does not exist")
    real_root = root.resolve()
    files: list[CorpusFile] = []
    errors: list[LoadError] = []
    for path in _entries(root, errors):
        if path.name.endswith(SIDECAR):
            continue
        source = path.relative_to(root).as_posix()
        if not _is_utf8(source):
            errors.append(
                LoadError(_shown(source), "file name is not valid UTF-8 (rename the file)")
            )
            continue
        problem = _link_problem(path, real_root) if path.is_symlink() else None
        sidecar = path.with_name(path.name + SIDECAR)
        if problem is None and sidecar.is_symlink():
            sidecar_problem = _link_problem(sidecar, real_root)
            problem = sidecar_problem and f"its sidecar {sidecar.name} is a {sidecar_problem}"
        if problem is not None:
            errors.append(LoadError(source, problem))
            continue
        try:
            status = path.stat()
        except OSError as error:
            errors.append(LoadError(source, f"cannot read file ({error.strerror or error})"))
            continue
        if stat.S_ISDIR(status.st_mode):
            continue  # a link to a folder inside the corpus: its files are scanned where they are
        if not stat.S_ISREG(status.st_mode):
            errors.append(LoadError(source, f"{kind_of(status.st_mode)}, not a regular file"))
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
        if status.st_size > max_bytes:
            errors.append(LoadError(source, oversize_reason(status.st_size, max_bytes)))
            continue
        try:
            files.append(CorpusFile(source, path, file_hash(path)))
        except DocumentError as error:
            errors.append(LoadError(source, str(error)))
        except OSError as error:
            errors.append(LoadError(source, f"cannot read file ({error.strerror or error})"))
    return files, errors
