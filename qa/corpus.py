"""Files → Documents: the only module that reads documents.

Supported: .txt, .md, .html/.htm, .pdf, .docx. A file that cannot be read is
reported as a :class:`LoadError` naming it and the reason; the others still load.

A sidecar ``NAME.meta.json`` beside ``NAME`` (e.g. ``report.pdf.meta.json``)
holding ``{"title": ..., "date": "2024-12-04"}`` overrides the title and date
read from the document.

Example::

    loaded = load_corpus(Path("corpus"))
    for error in loaded.errors:
        print(error)
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qa.metadata import extract_metadata, partial_iso
from qa.types import Document, LoadError

SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
SIDECAR = ".meta.json"
_DOCX_MAX_EXPANSION = 200  # uncompressed / compressed size above this is treated as a zip bomb
_WESTERN = ("cp1252", "latin_1", "iso8859_1", "iso8859_15", "mac_roman", "ascii")


class DocumentError(ValueError):
    """Why a file cannot become a document (the reason shown to the user)."""


@dataclass(frozen=True)
class CorpusFile:
    source: str
    path: Path
    content_hash: str


@dataclass(frozen=True)
class CorpusLoad:
    documents: tuple[Document, ...]
    errors: tuple[LoadError, ...]


def _fallback_cp1252(error: UnicodeError) -> tuple[str, int]:
    assert isinstance(error, UnicodeDecodeError)
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace"), error.end


codecs.register_error("qa-cp1252", _fallback_cp1252)


def _looks_western(data: bytes) -> bool:
    """Whether most bytes that are not UTF-8 stand alone between other characters
    (``£5``, ``café``, ``children’s``), as in Western text, rather than in runs
    (Cyrillic, Greek or CJK words). Guessing from byte statistics is unreliable on
    the few such bytes of a Western file: "The budget was £2.2m." read as Shift-JIS.
    """
    escaped = ["\udc80" <= ch <= "\udcff" for ch in data.decode("utf-8", errors="surrogateescape")]
    bad = [i for i, flag in enumerate(escaped) if flag]
    padded = [False, *escaped, False]
    alone = [i for i in bad if not padded[i] and not padded[i + 2]]
    return len(alone) >= len(bad) / 2


def decode_text(data: bytes) -> str:
    """Text of a plain-text file: UTF-8, or a legacy encoding detected from the bytes.

    Bytes that are not UTF-8 in a Western file are read as Windows-1252 (what
    council exports from Office use), one invalid sequence at a time, so a file
    that mixes UTF-8 and Windows-1252 lines reads correctly too.
    """
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # Checked for control characters like any other text: binary data after a BOM is still binary.
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as error:
            raise DocumentError(f"invalid UTF-16 text ({error.reason})") from None
    elif b"\x00" in data[:65536]:
        raise DocumentError("binary data, not text")
    else:
        text = _decode_8bit(data)
    control = sum(1 for ch in text[:65536] if ord(ch) < 32 and ch not in "\t\n\r\f")
    if control > 0.02 * min(len(text), 65536):
        raise DocumentError("binary data, not text")
    return text


def _decode_8bit(data: bytes) -> str:
    """UTF-8, or the legacy encoding the bytes look like."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        if _looks_western(data[:65536]):
            text = data.decode("utf-8", errors="qa-cp1252")
        else:
            guess = from_bytes(data[:1_000_000]).best()
            if guess is None:
                raise DocumentError("binary data or unknown text encoding") from None
            if guess.encoding.lower().startswith(_WESTERN):
                text = data.decode("utf-8", errors="qa-cp1252")
            else:  # Cyrillic, Greek, CJK: read as detected, not forced to Windows-1252
                text = data.decode(guess.encoding, errors="replace")
    return text


def _normalise(text: str) -> str:
    """Unix newlines, no trailing spaces on lines, at most one blank line in a row."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x0c", "\n\n")
    text = re.sub(r"[ \t]+\n", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text)


_HTML_HIDDEN = frozenset({"script", "style", "noscript", "template"})
_HTML_BLOCKS = frozenset(
    {
        "p",
        "div",
        "li",
        "tr",
        "table",
        "section",
        "article",
        "header",
        "footer",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "dd",
        "dt",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
    }
)


def _read_html(data: bytes) -> tuple[str, str | None]:
    """Text of an HTML page: blocks as paragraphs, headings as ``#``, list items as ``-``,
    table cells separated by tabs; no script, style or ``<head>`` text.

    Written as one walk over the parsed tree with an explicit stack, not by editing the
    tree (``insert_before`` per block is quadratic in bs4: a 170 kB page of 10,000
    paragraphs took 20 s, 100,000 nested ``<div>`` hours), and not by recursion.
    """
    from bs4 import BeautifulSoup, CData, NavigableString, Tag

    soup = BeautifulSoup(data, "lxml")
    head = soup.head
    title: str | None = None
    parts: list[str] = []
    # (children still to visit, text to add after them, whether their text is shown)
    stack: list[tuple[Iterator[Any], str, bool]] = [(iter(soup.contents), "", True)]
    while stack:
        children, suffix, shown = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            parts.append(suffix)
        elif isinstance(child, NavigableString):
            if shown and type(child) in (NavigableString, CData):
                parts.append(str(child))
        elif isinstance(child, Tag) and child.name not in _HTML_HIDDEN:
            name = child.name
            if name == "title" and title is None:
                title = child.get_text(" ", strip=True)
            if name == "br":
                parts.append("\n" if shown else "")
                continue
            visible = shown and child is not head
            prefix, after = "", ""
            if visible and name in _HTML_BLOCKS:
                prefix, after = "\n\n", "\n\n"
            if visible and len(name) == 2 and name[0] == "h" and name[1] in "123456":
                prefix += "#" * int(name[1]) + " "
            elif visible and name == "li":
                prefix += "- "
            elif visible and name in ("td", "th"):
                after = "\t" + after
            parts.append(prefix)
            stack.append((iter(child.contents), after, visible))
    lines = [re.sub(r"[ \u00a0]+", " ", line).strip(" ") for line in "".join(parts).split("\n")]
    return "\n".join(lines), title


def _read_pdf(path: Path) -> tuple[str, str | None]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError("encrypted PDF (a password is needed to read it)")
        pages = [page.extract_text() or "" for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except DocumentError:
        raise
    except DependencyError as error:  # AES encryption needs the cryptography package
        raise DocumentError(f"encrypted PDF that cannot be opened ({error})") from error
    except Exception as error:  # pypdf raises many unrelated types for bad files (found by fuzzing:
        # LimitReachedError on decompression bombs and reference loops, NotImplementedError on
        # unknown filters), and one of them must not stop the whole build
        raise DocumentError(f"corrupt or unreadable PDF ({error})") from error
    return "\n\n".join(pages), title if isinstance(title, str) else None


def _check_zip(path: Path, max_bytes: int) -> None:
    """Refuse a DOCX whose members expand too much.

    The sizes an archive states can be forged to look small: each member is also read
    through in 1 MB blocks, where zipfile stops at the stated size and fails the CRC.
    python-docx reads a member whole, which would first inflate all of it (up to 2 GB
    in one call).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            expanded = sum(m.file_size for m in members)
            packed = max(1, sum(m.compress_size for m in members))
            if expanded > max_bytes * 4 or expanded / packed > _DOCX_MAX_EXPANSION:
                raise DocumentError(
                    f"DOCX expands to {expanded:,} bytes from {packed:,}: refused as a possible zip bomb"
                )
            for member in members:
                with archive.open(member) as stream:
                    while stream.read(1 << 20):
                        pass
    except DocumentError:
        raise
    except zipfile.BadZipFile as error:
        raise DocumentError(f"corrupt DOCX (not a valid zip archive: {error})") from error
    except Exception as error:  # zlib.error, an encrypted member, an unknown compression method
        raise DocumentError(f"corrupt DOCX ({error})") from error


def _read_docx(path: Path, max_bytes: int) -> tuple[str, str | None]:
    _check_zip(path, max_bytes)
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as error:  # python-docx raises several unrelated types for bad files
        raise DocumentError(f"corrupt DOCX ({error})") from error
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            text = block.text.strip()
            if not text:
                continue
            style = (block.style.name if block.style is not None else "") or ""
            level = re.match(r"Heading (\d)", style)
            if level:
                text = "#" * int(level.group(1)) + " " + text
            elif style.startswith("List"):
                text = "- " + text
            lines.append(text)
        elif isinstance(block, Table):
            rows = ["\t".join(cell.text.strip() for cell in row.cells) for row in block.rows]
            lines.append("\n".join(rows))
    title = document.core_properties.title or None
    return "\n\n".join(lines), title


def _read_sidecar(path: Path) -> dict[str, str]:
    sidecar = path.with_name(path.name + SIDECAR)
    if not sidecar.is_file():
        return {}
    try:
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DocumentError(f"sidecar {sidecar.name} is not valid JSON ({error})") from error
    if not isinstance(data, dict):
        raise DocumentError(f"sidecar {sidecar.name} must hold a JSON object")
    overrides: dict[str, str] = {}
    if isinstance(data.get("title"), str) and data["title"].strip():
        overrides["title"] = data["title"].strip()
    if "date" in data:
        match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", str(data["date"]))
        value = match and partial_iso(*(int(g) if g else None for g in match.groups()))  # type: ignore[arg-type]
        if not value:
            raise DocumentError(f"sidecar {sidecar.name}: date must be YYYY, YYYY-MM or YYYY-MM-DD")
        overrides["date"] = value
    return overrides


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


def read_document(file: CorpusFile, max_bytes: int) -> Document:
    """Parse one file into a Document, or raise DocumentError saying why not."""
    try:
        size = file.path.stat().st_size
    except OSError as error:  # removed or replaced since the corpus was scanned
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    if size == 0:
        raise DocumentError("empty file")
    if size > max_bytes:
        raise DocumentError(
            f"file is {size / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB limit (setting max_file_mb)"
        )
    kind = SUFFIXES[file.path.suffix.lower()]
    stated_title: str | None = None
    try:
        if kind == "pdf":
            text, stated_title = _read_pdf(file.path)
        elif kind == "docx":
            text, stated_title = _read_docx(file.path, max_bytes)
        elif kind == "html":
            text, stated_title = _read_html(file.path.read_bytes())
        else:
            text = decode_text(file.path.read_bytes())
    except RecursionError as error:
        raise DocumentError("document structure is nested too deeply to read") from error
    except OSError as error:
        raise DocumentError(f"cannot read file ({error.strerror or error})") from error
    text = _normalise(text)
    if not text.strip():
        raise DocumentError(
            "no text found (a scanned PDF needs OCR first)" if kind == "pdf" else "no text found"
        )
    overrides = _read_sidecar(file.path)
    metadata = extract_metadata(file.source, text, stated_title)
    return Document(
        source=file.source,
        text=text,
        title=overrides.get("title", metadata.title),
        date=overrides.get("date", metadata.date),
        content_hash=file.content_hash,
        kind=kind,
    )


def read_documents(files: Iterable[CorpusFile], max_bytes: int) -> CorpusLoad:
    documents: list[Document] = []
    errors: list[LoadError] = []
    for file in files:
        try:
            documents.append(read_document(file, max_bytes))
        except DocumentError as error:
            errors.append(LoadError(file.source, str(error)))
    return CorpusLoad(tuple(documents), tuple(errors))


def load_corpus(root: Path, max_bytes: int = 100_000_000) -> CorpusLoad:
    """All readable documents under ``root`` and an error for each file that is not."""
    files, scan_errors = scan_corpus(root)
    loaded = read_documents(files, max_bytes)
    return CorpusLoad(loaded.documents, tuple(scan_errors) + loaded.errors)


def read_bytes_as_document(source: str, data: bytes, folder: Path, max_bytes: int) -> Document:
    """Validate an upload by parsing it from a scratch folder before it enters the corpus."""
    path = folder / Path(source).name
    path.write_bytes(data)
    return read_document(CorpusFile(source, path, hashlib.sha256(data).hexdigest()), max_bytes)
