"""Readers per format: bytes of a file → its text and the title its format states.

Supported: .txt, .md, .html/.htm, .pdf, .docx. A file that cannot be read raises
:class:`DocumentError` with the reason shown to the user.
"""

from __future__ import annotations

import codecs
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
_DOCX_MAX_EXPANSION = 200  # uncompressed / compressed size above this is treated as a zip bomb
_WESTERN = ("cp1252", "latin_1", "iso8859_1", "iso8859_15", "mac_roman", "ascii")


class DocumentError(ValueError):
    """Why a file cannot become a document (the reason shown to the user)."""


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


def normalise(text: str) -> str:
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


def read_text(kind: str, path: Path, max_bytes: int) -> tuple[str, str | None]:
    """The text of the file at ``path`` (of format ``kind``) and the title its format states."""
    if kind == "pdf":
        return _read_pdf(path)
    if kind == "docx":
        return _read_docx(path, max_bytes)
    if kind == "html":
        return _read_html(path.read_bytes())
    return decode_text(path.read_bytes()), None
