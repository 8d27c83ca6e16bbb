"""Hostile and broken files: each is reported by name with a reason while the rest index (issue 8).

Also a fuzzer over the loaders: random bytes and mutations of the small valid files in
``tests/fuzz_seeds/`` fed to :func:`qa.corpus.read_document`, which must return a Document
or raise :class:`qa.corpus.DocumentError`, nothing else. ``QA_FUZZ_EXAMPLES`` sets how many
inputs (default 400); the seed of the generator is fixed.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import random
import socket
import stat
import struct
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document
from qa.corpus import (
    SUFFIXES,
    CorpusFile,
    DocumentError,
    load_corpus,
    read_document,
    scan_corpus,
)
from qa.index.build import BuildReport, build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings

from .conftest import write_corpus

SEEDS = Path(__file__).parent / "fuzz_seeds"
FUZZ_EXAMPLES = int(os.environ.get("QA_FUZZ_EXAMPLES", "400"))
LIMITS = Settings().read_limits
WEIRD_NAME = "Rapport d'été $(touch pwned) ; ls `id` & <b>.txt"
WEIRD_TITLE = "Rapport d'été des clubs de vacances"
GOOD = {
    "adoption.txt": "Adoption Panel Annual Report\n\nThe panel approved fourteen adopters.\n",
    "fostering.md": "# Fostering Update\n\nThe council recruited twelve new foster carers.\n",
    WEIRD_NAME: f"{WEIRD_TITLE}\n\nSummer holiday clubs for children in care ran everywhere.\n",
}


# --- hostile files, made small and fast --------------------------------------------------------


def pdf_from_objects(objects: list[bytes], trailer: bytes = b"") -> bytes:
    """A PDF whose objects are ``objects`` (object 1 is the catalog), with a correct xref table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R %s>>\n" % (len(objects) + 1, trailer))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


_TEXT = b"BT /F1 12 Tf 72 720 Td (Budget annex about respite care) Tj ET"
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def _page(kids: bytes, stream: bytes, filters: bytes = b"") -> list[bytes]:
    return [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count 1 >>" % kids,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(stream), filters, stream),
        _FONT,
    ]


@functools.cache
def hostile_pdfs() -> dict[str, bytes]:
    good = pdf_from_objects(_page(b"3 0 R", _TEXT))
    bomb = zlib.compress(b" " * 100_000_000, 9)  # 100 kB that inflate to 100 MB
    encryption = (
        b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -1 /O <%s> /U <%s> /OE <%s> /UE <%s>"
        b" /Perms <%s> /CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >>"
        b" /StmF /StdCF /StrF /StdCF >>"
        % (b"ab" * 48, b"cd" * 48, b"ef" * 32, b"01" * 32, b"23" * 16)
    )
    return {
        "good.pdf": good,
        "truncated.pdf": good[: len(good) // 2],
        "garbage.pdf": b"%PDF-1.7\n" + bytes(range(256)) * 40,
        "not-a-pdf.pdf": b"PK\x03\x04 this is a zip file named .pdf",
        "cyclic-pages.pdf": pdf_from_objects(_page(b"2 0 R 3 0 R", _TEXT)),
        "flate-bomb.pdf": pdf_from_objects(_page(b"3 0 R", bomb, b"/Filter /FlateDecode ")),
        "unknown-filter.pdf": pdf_from_objects(_page(b"3 0 R", _TEXT, b"/Filter /NoSuchDecode ")),
        "aes-encrypted.pdf": pdf_from_objects(
            [*_page(b"3 0 R", _TEXT), encryption],
            b"/Encrypt 6 0 R /ID [<%s> <%s>] " % (b"00" * 16, b"00" * 16),
        ),
    }


def rc4_encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(hostile_pdfs()["good.pdf"])))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_with(document_xml: bytes) -> bytes:
    """The minimal seed DOCX with its word/document.xml replaced, deflated."""
    seed = zipfile.ZipFile(SEEDS / "minimal.docx")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in seed.infolist():
            data = document_xml if info.filename == "word/document.xml" else seed.read(info)
            archive.writestr(info.filename, data)
    return out.getvalue()


def forge_size(archive: bytes, member: str, size: int) -> bytes:
    """``archive`` with the stated uncompressed size of ``member`` forged to ``size``."""
    data = bytearray(archive)
    offset = zipfile.ZipFile(io.BytesIO(archive)).getinfo(member).header_offset
    struct.pack_into("<I", data, offset + 22, size)  # local file header
    entry = data.find(b"PK\x01\x02")
    while entry != -1:  # central directory entries
        length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + length] == member.encode():
            struct.pack_into("<I", data, entry + 24, size)
        entry = data.find(b"PK\x01\x02", entry + 4)
    return bytes(data)


_W = b"xmlns:w='http://schemas.openxmlformats.org/wordprocessingml/2006/main'"


def tuned_docx_bomb(xml_bytes: int) -> bytes:
    """The minimal seed DOCX with a ``word/document.xml`` of ``xml_bytes`` of formatted runs,
    varied enough to deflate 130 to 1: under the 200 to 1 a zip bomb check refuses."""
    rnd = random.Random(17)
    run = b"<w:r><w:rPr><w:b/><w:i/></w:rPr><w:t>%s</w:t></w:r>"
    words = [bytes(rnd.choice(b"abcdefghij") for _ in range(4)) for _ in range(3)]
    paragraphs = [
        b"<w:p>" + b"".join(run % rnd.choice(words) for _ in range(8)) + b"</w:p>" for _ in range(3)
    ]
    block = b"".join(rnd.choice(paragraphs) * 2 for _ in range(2000))
    out = io.BytesIO()
    seed = zipfile.ZipFile(SEEDS / "minimal.docx")
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for info in seed.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info.filename, seed.read(info))
        with archive.open("word/document.xml", "w", force_zip64=True) as member:
            written = member.write(b"<w:document %s><w:body>" % _W)
            while written < xml_bytes:
                written += member.write(block)
            member.write(b"</w:body></w:document>")
    return out.getvalue()


@functools.cache
def hostile_docx() -> dict[str, bytes]:
    huge = b"<w:document %s><w:body><w:p><w:r><w:t>%s</w:t></w:r></w:p></w:body></w:document>" % (
        _W,
        b" " * 100_000_000,
    )
    bomb = docx_with(huge)  # 100 MB of XML in 100 kB
    entities = b"".join(
        b'<!ENTITY e%d "%s">' % (n, b"&e%d;" % (n - 1) * 10 if n else b"lol") for n in range(10)
    )
    laughs = (
        b'<?xml version="1.0"?><!DOCTYPE d [%s]><w:document %s><w:body><w:p><w:r>'
        b"<w:t>&e9;</w:t></w:r></w:p></w:body></w:document>" % (entities, _W)
    )
    return {
        "zip-bomb.docx": bomb,
        "zip-bomb-forged-size.docx": forge_size(bomb, "word/document.xml", 2000),
        "zip-bomb-tuned.docx": tuned_docx_bomb(390_000_000),
        "billion-laughs.docx": docx_with(laughs),
        "not-a-zip.docx": b"this is not a zip archive",
        "truncated.docx": (SEEDS / "styled.docx").read_bytes()[:20000],
    }


def deep_html(depth: int) -> bytes:
    return b"<html><body>" + b"<div>" * depth + b"deep text" + b"</div>" * depth + b"</body></html>"


def hostile_corpus(root: Path, outside: Path) -> dict[str, str]:
    """Write good and hostile files under ``root``; return the expected reason word per file."""
    for name, text in GOOD.items():
        (root / name).write_text(text, encoding="utf-8")
    files: dict[str, bytes] = {
        "empty.txt": b"",
        "binary.txt": bytes(range(256)) * 64,
        "utf16-truncated.txt": b"\xff\xfeA\x00B",
        "utf16-binary.txt": "text\x00\x01\x02\x03\x04\x05".encode("utf-16"),
        **hostile_pdfs(),
        "rc4-encrypted.pdf": rc4_encrypted_pdf(),
        **hostile_docx(),
        "deep.html": deep_html(20_000),
        "invalid-utf8.txt": b"Caf\xe9 budget \xff\xfe review \x80 of respite care\n",
        "mixed-encodings.txt": "Déjà vu budget\n".encode()
        + "children’s £5 review\n".encode("cp1252"),
    }
    for name, data in files.items():
        (root / name).write_bytes(data)
    with (root / "huge.txt").open("wb") as handle:  # 200 MB, sparse: no disk used, fast to make
        handle.truncate(200_000_000)
    (root / os.fsdecode(b"latin1-caf\xe9.txt")).write_text("A Latin-1 file name.\n")
    outside.write_text("SECRET password from outside the corpus\n", encoding="utf-8")
    (root / "outside-link.txt").symlink_to(outside)
    (root / "loop.txt").symlink_to(root / "loop.txt")
    return {
        "empty.txt": "empty file",
        "binary.txt": "binary",
        "utf16-truncated.txt": "invalid UTF-16",
        "utf16-binary.txt": "binary",
        "truncated.pdf": "corrupt or unreadable PDF",
        "garbage.pdf": "corrupt or unreadable PDF",
        "not-a-pdf.pdf": "corrupt or unreadable PDF",
        # PDFium inflates the 100 MB of spaces in a fraction of a second: a page without text.
        "flate-bomb.pdf": "no text found",
        "aes-encrypted.pdf": "encrypted PDF",
        "rc4-encrypted.pdf": "encrypted PDF (a password is needed",
        "zip-bomb.docx": "zip bomb",
        "zip-bomb-forged-size.docx": "corrupt DOCX",
        "zip-bomb-tuned.docx": "DOCX holds more than 500,000 elements",
        "billion-laughs.docx": "corrupt DOCX",
        "not-a-zip.docx": "corrupt DOCX",
        "truncated.docx": "corrupt DOCX",
        "huge.txt": "file is 200 MB, over the 100 MB limit (setting max_file_mb)",
        "latin1-caf\ufffd.txt": "file name is not valid UTF-8",
        "outside-link.txt": "symbolic link to a file outside the corpus folder (not followed)",
        "loop.txt": "symbolic link that loops",
    }


def test_each_hostile_file_is_reported_by_name_and_every_other_document_indexes(
    tmp_path: Path,
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    expected = hostile_corpus(corpus, tmp_path / "outside-secret.txt")
    settings = Settings(corpus=corpus, index=tmp_path / "index", chunk_size=300, chunk_overlap=50)
    started = time.perf_counter()
    report = build_index(settings, HashingEmbedder())
    seconds = time.perf_counter() - started

    reasons = {error.source: error.reason for error in report.errors}
    for source, reason in expected.items():
        assert source in reasons, f"{source} not reported; reported: {sorted(reasons)}"
        assert reason in reasons[source], (source, reasons[source])
    assert set(reasons) == set(expected), set(reasons) ^ set(expected)
    assert all(str(error).startswith(error.source + ": ") for error in report.errors)

    searcher = Searcher.open(settings, HashingEmbedder())
    indexed = set(searcher.snapshot.documents)
    # PDFium reads past a page tree that contains itself and a stream filter it does not know,
    # as viewers do, so those two files give their text rather than an error.
    readable_pdfs = {"good.pdf", "cyclic-pages.pdf", "unknown-filter.pdf"}
    assert indexed == {
        *GOOD,
        *readable_pdfs,
        "deep.html",
        "invalid-utf8.txt",
        "mixed-encodings.txt",
    }
    texts = searcher.snapshot.documents
    for name in readable_pdfs:
        assert texts[name].text == "Budget annex about respite care\n"
    assert texts["mixed-encodings.txt"].text == "Déjà vu budget\nchildren’s £5 review\n"
    assert "Café budget" in texts["invalid-utf8.txt"].text
    assert texts["deep.html"].text.strip() == "deep text"
    assert not any("SECRET" in d.text for d in texts.values())
    # The file named with quotes, $( ), ;, backquotes, & and < > is searchable and cited by name;
    # nothing in it was run.
    hits = searcher.search("summer holiday clubs", k=1).hits
    assert hits[0].chunk.source == WEIRD_NAME and hits[0].title == WEIRD_TITLE
    assert not (corpus / "pwned").exists() and not Path("pwned").exists()
    assert seconds < 60, f"the build of the hostile corpus took {seconds:.1f} s"

    # The next build reports the skipped files again, without reading them.
    again = build_index(settings, HashingEmbedder())
    assert again.unchanged and {e.source for e in again.errors} == set(expected)


def test_deeply_nested_html_reads_in_linear_time() -> None:
    """100,000 nested <div>s took hours and 10,000 paragraphs 20 s when each block was edited
    in the tree; one walk over it takes seconds."""
    from qa.corpus.html_reader import read_html

    started = time.perf_counter()
    text = read_html(deep_html(100_000), LIMITS).text
    assert text.strip() == "deep text"
    flat = b"<html><body>" + b"<p>One paragraph.</p>" * 20_000 + b"</body></html>"
    text = read_html(flat, LIMITS).text
    assert text.count("One paragraph.") == 20_000
    assert time.perf_counter() - started < 30


def test_a_file_removed_after_the_scan_is_reported(tmp_path: Path) -> None:
    gone = CorpusFile("gone.txt", tmp_path / "gone.txt", "0" * 64)
    with pytest.raises(DocumentError, match="cannot read file"):
        read_document(gone, LIMITS)


# --- what the scan leaves out, and what it never reads -------------------------------------------


def test_pipes_sockets_and_devices_in_the_corpus_are_reported_by_name_never_opened(
    tmp_path: Path,
) -> None:
    """They were skipped without a word. A pipe opened to read would wait for a writer for
    ever, so the build runs in a thread with a deadline."""
    corpus = write_corpus(tmp_path / "corpus", {"adoption.txt": GOOD["adoption.txt"]})
    os.mkfifo(corpus / "pipe.txt")
    (corpus / "reports").mkdir()
    os.mkfifo(corpus / "reports" / "pipe.txt.meta.json")
    (corpus / "reports" / "pipe.txt").write_text("A document whose sidecar is a pipe.\n")
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(corpus / "sock.txt"))
    expected = {
        "pipe.txt": "a named pipe (FIFO), not a regular file",
        "sock.txt": "a socket, not a regular file",
        "reports/pipe.txt": "sidecar pipe.txt.meta.json cannot be read (a named pipe (FIFO),",
    }
    try:
        os.mknod(corpus / "null.txt", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
        expected["null.txt"] = "a character device, not a regular file"
    except PermissionError:  # not root, or a container without CAP_MKNOD
        pass
    settings = Settings(corpus=corpus, index=tmp_path / "index")
    reports: list[BuildReport] = []
    builder = threading.Thread(
        target=lambda: reports.append(build_index(settings, HashingEmbedder())), daemon=True
    )
    builder.start()
    builder.join(60)
    listening.close()
    assert reports, "the build did not end within 60 s"
    reasons = {error.source: error.reason for error in reports[0].errors}
    assert set(reasons) == set(expected)
    for source, reason in expected.items():
        assert reasons[source].startswith(reason), (source, reasons[source])
    assert reports[0].documents == 1


def test_a_folder_that_cannot_be_listed_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = write_corpus(
        tmp_path / "corpus", {"adoption.txt": GOOD["adoption.txt"], "locked/a.txt": "Text.\n"}
    )
    (corpus / "locked").chmod(0)
    if os.geteuid() == 0:  # root lists any folder: refuse it as the kernel would refuse a user
        listing = os.scandir

        def refuse(path: Any) -> Any:
            if Path(path) == corpus / "locked":
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return listing(path)

        monkeypatch.setattr(os, "scandir", refuse)
    try:
        files, errors = scan_corpus(corpus, 1_000_000)
    finally:
        (corpus / "locked").chmod(0o755)
    assert [f.source for f in files] == ["adoption.txt"]
    assert [str(e) for e in errors] == ["locked/: folder cannot be read (Permission denied)"]


def bytes_read() -> int:
    """Bytes this process has read so far (read and pread calls, from the page cache too)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("rchar:"):
            return int(line.split()[1])
    raise AssertionError("no rchar in /proc/self/io")


@pytest.mark.skipif(not Path("/proc/self/io").is_file(), reason="counts bytes read in /proc")
def test_a_file_over_the_limit_is_refused_from_its_size_never_hashed(tmp_path: Path) -> None:
    """A 10 GB sparse file was hashed in full at every scan, 6.5 s per `qa ask`."""
    corpus = write_corpus(tmp_path / "corpus", {"adoption.txt": GOOD["adoption.txt"]})
    with (corpus / "huge.txt").open("wb") as handle:
        handle.truncate(10_000_000_000)
    before = bytes_read()
    files, errors = scan_corpus(corpus, 100_000_000)
    read = bytes_read() - before
    assert [f.source for f in files] == ["adoption.txt"]
    assert [str(e) for e in errors] == [
        "huge.txt: file is 10000 MB, over the 100 MB limit (setting max_file_mb)"
    ]
    assert read < 1_000_000, f"the scan read {read:,} bytes"


@pytest.mark.skipif(not Path("/proc/self/io").is_file(), reason="counts bytes read in /proc")
def test_a_sidecar_over_its_limit_is_refused_unread(tmp_path: Path) -> None:
    """A 2 GB sidecar was read whole at every scan (4.2 GB of memory per `qa ask`)."""
    corpus = write_corpus(tmp_path / "corpus", {"adoption.txt": GOOD["adoption.txt"]})
    with (corpus / "adoption.txt.meta.json").open("wb") as handle:
        handle.truncate(2_000_000_000)
    before = bytes_read()
    report = build_index(Settings(corpus=corpus, index=tmp_path / "index"), HashingEmbedder())
    read = bytes_read() - before
    assert [str(e) for e in report.errors] == [
        "adoption.txt: sidecar adoption.txt.meta.json cannot be read"
        " (2,000,000,000 bytes, over the limit of 65,536 bytes)"
    ]
    assert read < 10_000_000, f"the build read {read:,} bytes"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="measures memory in /proc")
def test_a_200_mb_text_file_with_a_raised_limit_reads_in_bounded_memory(
    tmp_path: Path, ci_log: Callable[[str], None]
) -> None:
    """Reading holds the bytes and the text: about twice the file, not more. Chunking and
    embedding then take time in proportion (see RELIABILITY.md), which is why the limit exists."""
    script = textwrap.dedent(
        """
        import re, sys, time
        from pathlib import Path
        from qa.corpus import CorpusFile, read_document
        from qa.settings import Settings
        def peak_kb():  # VmHWM: this process's peak resident memory (ru_maxrss survives exec)
            return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
        path = Path(sys.argv[1])
        line = b"The council spent 22 million on children's services; the panel met.\\n"
        block = line * (1_000_000 // len(line))
        with path.open("wb") as handle:
            while handle.tell() < 200_000_000:
                handle.write(block)
        before = peak_kb()
        started = time.perf_counter()
        document = read_document(
            CorpusFile("big.txt", path, "h"),
            Settings(max_file_mb=300, max_document_chars=300_000_000).read_limits,
        )
        seconds = time.perf_counter() - started
        peak = peak_kb()
        path.unlink()
        print(len(document.text), before, peak, seconds)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "big.txt")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    length, before, peak, seconds = result.stdout.split()
    size = int(length)
    grown = (int(peak) - int(before)) * 1024
    ci_log(f"200 MB text file: read in {float(seconds):.1f} s, memory grew {grown / 1e6:.0f} MB")
    assert size >= 200_000_000
    assert grown < 2.5 * size


@pytest.mark.slow
def test_a_pdf_of_thousands_of_pages_reads(tmp_path: Path, ci_log: Callable[[str], None]) -> None:
    from pypdf import PdfReader, PdfWriter

    page = PdfReader(io.BytesIO(hostile_pdfs()["good.pdf"])).pages[0]
    writer = PdfWriter()
    for _ in range(3000):
        writer.add_page(page)
    path = tmp_path / "annex.pdf"
    writer.write(path)
    started = time.perf_counter()
    document = read_document(CorpusFile("annex.pdf", path, "h"), LIMITS)
    seconds = time.perf_counter() - started
    assert document.text.count("Budget annex about respite care") == 3000
    assert seconds < 120
    chunks = chunk_document(document, 1000, 150)
    assert sum(c.text.count("Budget annex") for c in chunks) >= 3000
    ci_log(f"3,000-page PDF: read in {seconds:.1f} s, {len(chunks)} chunks")


# --- fuzzing the loaders -------------------------------------------------------------------------

SEED_FILES = {path.name: path.read_bytes() for path in sorted(SEEDS.iterdir()) if path.is_file()}
_OPS = st.tuples(st.integers(0, 6), st.floats(0, 1), st.integers(0, 255), st.integers(1, 64))


def mutate(data: bytes, operations: list[tuple[int, float, int, int]]) -> bytes:
    """``data`` after byte edits: set, flip, truncate, insert, repeat a run, delete, splice."""
    out = bytearray(data)
    for op, where, value, length in operations:
        at = int(where * len(out))
        if op == 0 and out:
            out[min(at, len(out) - 1)] = value
        elif op == 1 and out:
            out[min(at, len(out) - 1)] ^= 1 << (value % 8)
        elif op == 2:
            del out[at:]
        elif op == 3:
            out[at:at] = bytes([value]) * length
        elif op == 4:
            out[at:at] = out[at : at + length] * (value % 50 + 1)
        elif op == 5:
            del out[at : at + length]
        else:
            other = list(SEED_FILES.values())[value % len(SEED_FILES)]
            out[at:] = other[int(where * len(other)) :]
    return bytes(out)


def test_loaders_return_a_document_or_a_document_error_for_any_bytes(
    tmp_path: Path, ci_log: Callable[[str], None]
) -> None:
    tried: list[str] = []
    slowest = 0.0

    @settings(
        max_examples=FUZZ_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        seed=st.sampled_from(sorted(SEED_FILES)),
        operations=st.lists(_OPS, min_size=1, max_size=8),
        raw=st.one_of(st.none(), st.none(), st.none(), st.binary(max_size=4000)),
        suffix=st.one_of(st.none(), st.none(), st.none(), st.sampled_from(sorted(SUFFIXES))),
    )
    def load(
        seed: str,
        operations: list[tuple[int, float, int, int]],
        raw: bytes | None,
        suffix: str | None,
    ) -> None:
        nonlocal slowest
        data = raw if raw is not None else mutate(SEED_FILES[seed], operations)
        name = "fuzzed" + (suffix or Path(seed).suffix)
        path = tmp_path / name
        path.write_bytes(data)
        tried.append(name)
        started = time.perf_counter()
        try:
            document = read_document(CorpusFile(name, path, "h"), LIMITS)
        except DocumentError as error:
            assert str(error)
        else:
            # What is read can be stored (valid UTF-8) and chunked with offsets into the text.
            (document.text + document.title).encode("utf-8")
            for chunk in chunk_document(document, 300, 50):
                assert chunk.text == document.text[chunk.start : chunk.end]
        seconds = time.perf_counter() - started
        slowest = max(slowest, seconds)
        assert seconds < 20, f"{name} took {seconds:.1f} s"

    load()
    kinds = {suffix: sum(n.endswith(suffix) for n in tried) for suffix in sorted(SUFFIXES)}
    ci_log(f"loader fuzzing: {len(tried)} inputs tried {kinds}, slowest {slowest:.2f} s")
    assert len(tried) >= min(FUZZ_EXAMPLES, 50)


def test_seed_corpus_files_all_read() -> None:
    loaded = load_corpus(SEEDS)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    assert len(loaded.documents) == len(SEED_FILES) >= 8
