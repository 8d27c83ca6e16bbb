"""Readers per format: a file → :class:`~qa.corpus.structure.Extracted` (its text, the title
its format states, its pages and headings).

Supported: .txt, .md, .html/.htm, .pdf (:mod:`qa.corpus.pdf`), .docx. Text files are read
exactly as they are; HTML and DOCX are written out as blocks with the conventions of
:mod:`qa.corpus.structure`. A file that cannot be read raises :class:`DocumentError` with the
reason shown to the user.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from qa.corpus.docx_reader import read_docx
from qa.corpus.html_reader import read_html
from qa.corpus.pdf import read_pdf
from qa.corpus.structure import DocumentError, Extracted, ReadLimits

# What the readers make of a file's bytes. An index keeps the text of unchanged files, so a
# change to any reader must bump this for every index to read its files again.
# 2: PDFs with pypdfium2 (pages, running lines removed, tables, lists, headings), text files
# exactly as decoded, HTML and DOCX structure without markup.
READER_VERSION = 2

SUFFIXES = {
    ".txt": "text",
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}
_WESTERN = ("cp1252", "latin_1", "iso8859_1", "iso8859_15", "mac_roman", "ascii")


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


def extract(kind: str, path: Path, limits: ReadLimits) -> Extracted:
    """What the file at ``path`` (of format ``kind``) holds; DocumentError if it cannot be read
    or holds more than ``limits``."""
    if kind == "pdf":
        return read_pdf(path, limits).extracted
    if kind == "docx":
        return read_docx(path, limits)
    if kind == "html":
        return read_html(path.read_bytes(), limits)
    return Extracted(decode_text(path.read_bytes()), title=None)
