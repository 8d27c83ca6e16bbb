"""What one file may cost to read (issue 17): counts kept while parsing, and a reader process
that is stopped when it overruns its time or memory. Each refused file is reported with the
limit that refused it, and every other document is read.

The files are made to cost what the issue's did: a 3 MB DOCX whose XML expands to 390 MB
within both zip checks, an 8 kB PDF printing five million characters, a valid PDF of 200,000
pages. ``-s`` prints what each cost.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from qa.corpus import CorpusFile, DocumentError, read_document
from qa.corpus.worker import DocumentReader
from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings

from .conftest import make_pdf, write_corpus
from .test_hostile_files import pdf_from_objects, tuned_docx_bomb

LIMITS = Settings().read_limits
_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
GOOD = {"adoption.txt": "Adoption Panel Annual Report\n\nThe panel approved fourteen adopters.\n"}


def one_run_pdf(characters: int) -> bytes:
    """A one-page PDF whose compressed content prints ``characters`` characters in runs of
    28,000 (the longest string PDFium shows whole is 32,767)."""
    run = b"(" + b"budget " * 4000 + b") Tj "
    content = zlib.compress(b"BT /F1 12 Tf 72 720 Td " + run * (characters // 28_000) + b" ET", 9)
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
            % (len(content), content),
            _FONT,
        ]
    )


def many_pages_pdf(pages: int) -> bytes:
    """A valid PDF of ``pages`` pages, each printing one line from one shared content stream."""
    line = b"BT /F1 12 Tf 72 720 Td (Budget annex about respite care) Tj ET"
    kids = b" ".join(b"%d 0 R" % (5 + page) for page in range(pages))
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R"
        b" /Resources << /Font << /F1 4 0 R >> >> >>"
    )
    return pdf_from_objects(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
            b"<< /Length %d >>\nstream\n%s\nendstream" % (len(line), line),
            _FONT,
            *[page] * pages,
        ]
    )


def report_pdf(path: Path, pages: int) -> Path:
    """A PDF of ``pages`` pages of 40 lines of report text (about 2,700 characters a page, as
    the Ofsted reports have)."""
    line = "Social workers visit children regularly and know them well; plans are reviewed."
    return make_pdf(path, [[f"{number}. {line}" for number in range(40)]] * pages)


def test_a_docx_whose_xml_expands_within_the_zip_checks_is_refused_while_parsing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's DOCX: 3 MB whose XML expands to 390 MB, within the size check (4 x
    max_file_mb) and the ratio check (200 to 1). python-docx parsed it into 5.8 GB over five
    minutes (or stopped the build with lxml's XPathEvalError); its elements are now counted
    as it is inflated, and it is refused after 500,000 of them, in flat memory."""
    path = tmp_path / "bomb.docx"
    path.write_bytes(tuned_docx_bomb(390_000_000))
    with zipfile.ZipFile(path) as archive:
        expanded = sum(m.file_size for m in archive.infolist())
        packed = sum(m.compress_size for m in archive.infolist())
    assert expanded > 390_000_000 and path.stat().st_size < 3_100_000
    assert expanded < 4 * LIMITS.max_bytes and expanded / packed < 200  # within both checks
    script = textwrap.dedent(
        """
        import re, sys, time
        from pathlib import Path
        from qa.corpus import CorpusFile, DocumentError, read_document
        from qa.settings import Settings
        def peak_kb():
            return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text())[1])
        before = peak_kb()
        started = time.perf_counter()
        try:
            read_document(CorpusFile("bomb.docx", Path(sys.argv[1]), "h"), Settings().read_limits)
        except DocumentError as error:
            print(error)
        print(time.perf_counter() - started, (peak_kb() - before) * 1024)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    reason, figures = result.stdout.splitlines()
    seconds, grown = float(figures.split()[0]), int(figures.split()[1])
    with capsys.disabled():
        print(f"\n390 MB DOCX bomb: refused in {seconds:.1f} s, memory grew {grown / 1e6:.0f} MB")
    assert reason == (
        "DOCX holds more than 500,000 elements, the most read for 2,000,000 characters"
        " (setting max_document_chars)"
    )
    assert grown < 100_000_000


def test_a_small_pdf_printing_millions_of_characters_is_refused_in_seconds(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An 8 kB PDF printing five million characters on one page was read in 60 s and 2.5 GB
    and made 5,885 passages (217 s to index in the issue). PDFium's own text layer for that
    page needs over 2 GB, so the reader process is stopped by its memory limit; with more
    memory allowed, the page's characters are counted before its glyphs are taken."""
    path = tmp_path / "run.pdf"
    path.write_bytes(one_run_pdf(5_000_000))
    assert path.stat().st_size < 10_000
    for settings, reason in (
        (Settings(), "the reader ended abruptly (SIGABRT), as a library does when it needs"),
        (
            Settings(max_read_memory_mb=3000),
            "PDF holds more than 2,000,000 characters of text (setting max_document_chars)",
        ),
    ):
        started = time.perf_counter()
        with DocumentReader(settings.read_limits) as reader, pytest.raises(DocumentError) as error:
            reader.read(CorpusFile("run.pdf", path, "h"))
        seconds = time.perf_counter() - started
        assert str(error.value).startswith(reason)
        assert seconds < 60
        with capsys.disabled():
            print(f"\n5M-character PDF: refused in {seconds:.1f} s: {error.value}")


def test_the_characters_of_a_pdf_are_counted_page_by_page_before_the_layout(
    tmp_path: Path,
) -> None:
    path = report_pdf(tmp_path / "annex.pdf", 10)
    document = read_document(CorpusFile("annex.pdf", path, "h"), LIMITS)
    small = Settings(max_document_chars=len(document.text) // 2).read_limits
    with pytest.raises(DocumentError, match=r"^PDF holds more than [\d,]+ characters of text"):
        read_document(CorpusFile("annex.pdf", path, "h"), small)


def test_a_pdf_of_200000_pages_is_refused_by_its_page_count(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid PDF of 200,000 pages was reported as "corrupt or unreadable"."""
    path = tmp_path / "pages.pdf"
    path.write_bytes(many_pages_pdf(200_000))
    started = time.perf_counter()
    with pytest.raises(DocumentError) as error:
        read_document(CorpusFile("pages.pdf", path, "h"), LIMITS)
    seconds = time.perf_counter() - started
    assert str(error.value) == "PDF has 200,000 pages, over the limit of 5,000 (setting max_pages)"
    assert seconds < 30
    with capsys.disabled():
        print(
            f"\n200,000-page PDF ({path.stat().st_size / 1e6:.0f} MB): refused in {seconds:.1f} s"
        )


def test_a_page_pdfium_cannot_load_is_named(tmp_path: Path) -> None:
    """PDFium follows a page tree 1,024 levels deep at most: the pages below are named."""
    depth = 1100
    objects = [b"<< /Type /Catalog /Pages 3 0 R >>", _FONT]
    for level in range(depth):  # node 3 + 2 level holds page 4 + 2 level and the next node
        node, page = 3 + 2 * level, 4 + 2 * level
        parent = b"/Parent %d 0 R " % (node - 2) if level else b""
        kids = b"%d 0 R" % page + (b" %d 0 R" % (node + 2) if level < depth - 1 else b"")
        objects.append(b"<< /Type /Pages %s/Kids [%s] /Count %d >>" % (parent, kids, depth - level))
        objects.append(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources"
            b" << /Font << /F1 2 0 R >> >> >>" % node
        )
    path = tmp_path / "deep.pdf"
    path.write_bytes(pdf_from_objects(objects))
    with pytest.raises(DocumentError) as error:
        read_document(CorpusFile("deep.pdf", path, "h"), LIMITS)
    assert str(error.value).startswith("corrupt or unreadable PDF (page 1,025 of 1,100:")


def test_an_html_page_of_more_elements_than_the_limit_is_refused_before_it_is_parsed() -> None:
    from qa.corpus.html_reader import read_html

    page = b"<html><body>" + b"<p>One <b>short</b> paragraph.</p>" * 300_000 + b"</body></html>"
    started = time.perf_counter()
    with pytest.raises(DocumentError, match=r"^HTML page holds more than 500,000 elements"):
        read_html(page, LIMITS)
    assert time.perf_counter() - started < 30


def test_a_document_of_more_passages_than_the_limit_is_reported_and_the_others_index(
    tmp_path: Path,
) -> None:
    sections = "".join(f"SECTION {n}\n\nItem {n} of the annex.\n\n" for n in range(200))
    corpus = write_corpus(tmp_path / "corpus", {**GOOD, "annex.txt": sections})
    settings = Settings(corpus=corpus, index=tmp_path / "index", max_document_chunks=50)
    report = build_index(settings, HashingEmbedder())
    (error,) = report.errors
    assert error.source == "annex.txt"
    assert error.reason.startswith("the document makes ")
    assert error.reason.endswith("passages, over the limit of 50 (setting max_document_chunks)")
    assert set(Searcher.open(settings, HashingEmbedder()).snapshot.documents) == {"adoption.txt"}


def test_a_reader_over_its_time_is_stopped_and_every_other_document_is_read(
    tmp_path: Path,
) -> None:
    """The reader process is killed at max_read_seconds; the file is reported with the limit,
    and the next file gets a new process. The slow PDF (100 pages) takes about 2 s here, the
    small one 0.02 s."""
    corpus = write_corpus(tmp_path / "corpus", GOOD)
    report_pdf(corpus / "slow.pdf", 100)
    report_pdf(corpus / "small.pdf", 1)
    settings = Settings(corpus=corpus, index=tmp_path / "index", max_read_seconds=0.5)
    report = build_index(settings, HashingEmbedder())
    assert {error.source: error.reason for error in report.errors} == {
        "slow.pdf": "reading took more than 0.5 s and was stopped (setting max_read_seconds)"
    }
    indexed = Searcher.open(settings, HashingEmbedder()).snapshot.documents
    assert set(indexed) == {"adoption.txt", "small.pdf"}


def test_a_reader_over_its_memory_is_stopped_and_every_other_document_is_read(
    tmp_path: Path,
) -> None:
    """Allocations over max_read_memory_mb fail in the reader process: a page of 200,000
    elements needs about 300 MB of BeautifulSoup's objects."""
    corpus = write_corpus(
        tmp_path / "corpus",
        {**GOOD, "hungry.html": b"<p>A <b>short</b> paragraph.</p>" * 100_000},
    )
    report_pdf(corpus / "small.pdf", 1)
    settings = Settings(corpus=corpus, index=tmp_path / "index", max_read_memory_mb=250)
    report = build_index(settings, HashingEmbedder())
    assert {error.source: error.reason for error in report.errors} == {
        "hungry.html": "reading needs more than the 250 MB of memory allowed"
        " (setting max_read_memory_mb)"
    }
    indexed = Searcher.open(settings, HashingEmbedder()).snapshot.documents
    assert set(indexed) == {"adoption.txt", "small.pdf"}
