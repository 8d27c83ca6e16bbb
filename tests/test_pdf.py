"""PDF reading: the text a reader of the page sees, tied to its pages (issue 14).

Checked on a report generated here with the layouts real reports have (running header and
footer, a table with a wrapped cell, bullets, a paragraph over a page break with a word
hyphenated at a line end, headings by type), and on the 17 Ofsted reports in
``../shared/ilacs`` when they are there (CI clones the repository beside ``shared``).
"""

from __future__ import annotations

import bisect
import csv
import io
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pypdfium2
import pytest

from qa.corpus import load_corpus
from qa.corpus.pdf import PdfText, passage_boxes, read_pdf, render_page
from qa.corpus.structure import Extracted

from .conftest import ILACS

REPORTS = sorted((ILACS / "reports").glob("*.pdf"))
needs_reports = pytest.mark.skipif(
    not REPORTS,
    reason=f"the Ofsted reports are not in {ILACS} (clone the repository beside shared/)",
)


def each_report(test: Callable[[Path], None]) -> Callable[[Path], None]:
    """``test`` run on each of the 17 reports: slow, skipped when they are not there."""
    by_report = pytest.mark.parametrize("path", REPORTS, ids=[path.name for path in REPORTS])
    return pytest.mark.slow(needs_reports(by_report(test)))


HEADER = "Northmoor Council annual review of children’s services"
TABLE_ROWS = [
    "Judgement | Grade",
    "The experiences and progress of children who need help and protection | Good",
    "Overall effectiveness | Requires improvement to be good",
]
BULLETS = [
    "• The timeliness of assessments for children who are new to the service, so that they "
    "receive help when they first need it.",
    "• The quality of plans for care leavers.",
]


def make_report_pdf(path: Path) -> Path:
    """A three-page report laid out as council and Ofsted reports are (A4, 12 pt text)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle("Northmoor annual review")

    def page_furniture(number: int) -> None:
        pdf.setFont("Helvetica", 8)
        pdf.drawString(72, 812, HEADER)
        pdf.drawRightString(523, 30, f"Page {number} of 3")
        pdf.setFont("Helvetica", 12)

    def lines(x: float, y: float, texts: list[str], pitch: float = 14.5) -> float:
        for text in texts:
            pdf.drawString(x, y, text)
            y -= pitch
        return y

    page_furniture(1)
    pdf.setFont("Helvetica-Bold", 20)
    pdf.drawString(72, 740, "Annual review of children’s services")
    pdf.setFont("Helvetica", 12)
    y = lines(72, 700, ["Northmoor families told inspectors that help now comes sooner."])
    # The judgement table: a wrapped first-column cell, its grade centred beside it.
    pdf.setFont("Helvetica-Bold", 12)
    pdf.drawString(77, y - 20, "Judgement")
    pdf.drawString(303, y - 20, "Grade")
    pdf.setFont("Helvetica", 12)
    row = y - 50
    lines(77, row, ["The experiences and progress of", "children who need help and protection"])
    pdf.drawString(303, row - 7, "Good")
    lines(77, row - 42, ["Overall effectiveness"])
    pdf.drawString(303, row - 42, "Requires improvement to be good")
    for x in (72, 298, 520):
        pdf.line(x, y - 8, x, row - 50)
    for line_y in (y - 8, y - 28, row - 28, row - 50):
        pdf.line(72, line_y, 520, line_y)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(72, row - 90, "What needs to improve?")
    pdf.setFont("Helvetica", 12)
    pdf.drawString(72, row - 116, "•")
    y = lines(
        89,
        row - 116,
        [
            "The timeliness of assessments for children who are new to the service, so",
            "that they receive help when they first need it.",
        ],
    )
    pdf.drawString(72, y - 5, "•")
    lines(89, y - 5, ["The quality of plans for care leavers."])
    lines(
        72,
        y - 45,
        [
            "Leaders work with multi-agency partners and with families. Early help now reaches",
            "more families than last year. Workers offer multi-",
            "agency support where it is needed, and the service supported many fami-",
        ],
    )
    pdf.showPage()
    page_furniture(2)
    y = lines(
        72,
        760,
        [
            "lies who had waited for too long, so that fewer children",
            "need a child protection plan.",
        ],
    )
    pdf.drawString(72, y - 12, "1.")
    lines(
        100,
        y - 12,
        [
            "Social workers visit children often and know them well. Supervision is",
            "regular and helps workers to reflect on the progress of each child.",
        ],
    )
    pdf.showPage()
    page_furniture(3)
    pdf.setFont("Helvetica-Bold", 14)
    pdf.drawString(72, 760, "The experiences and progress of care leavers: good")
    pdf.setFont("Helvetica", 12)
    lines(
        72,
        735,
        [
            "Care leavers are supported by personal advisers who keep in touch with them",
            "and help them to find homes, work and training.",
        ],
    )
    pdf.showPage()
    pdf.save()
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_report_pdf(tmp_path_factory.mktemp("pdf") / "northmoor.pdf")


@pytest.fixture(scope="module")
def extracted(report: Path) -> Extracted:
    return read_pdf(report, None).extracted


def raw_page_words(path: Path) -> list[str]:
    """The words of each page's text as pypdfium2 gives it, one space apart."""
    with pypdfium2.PdfDocument(path) as document:
        return [" ".join(words(page.get_textpage().get_text_range())) for page in document]


def headings_of(extracted: Extracted) -> list[str]:
    return [extracted.text[start:end] for start, end in extracted.headings]


# --- a generated report ----------------------------------------------------------------------


def test_running_header_and_page_numbers_are_not_in_the_text(extracted: Extracted) -> None:
    assert "Northmoor Council annual review" not in extracted.text
    assert not re.search(r"Page \d of 3", extracted.text)
    assert extracted.title == "Northmoor annual review"


def test_each_page_starts_at_its_first_printed_character(extracted: Extracted) -> None:
    text, pages = extracted.text, extracted.pages
    assert pages[0] == 0 and text.startswith("Annual review of children’s services\n")
    # Page 2 begins inside "families", hyphenated over the page break: the offset is exact.
    assert text[pages[1] - 4 :].startswith("families who had waited")
    assert text[pages[2] :].startswith("The experiences and progress of care leavers: good")


def test_a_paragraph_cut_by_a_page_break_is_one_paragraph_with_its_hyphenated_word_joined(
    extracted: Extracted,
) -> None:
    paragraph = (
        "Leaders work with multi-agency partners and with families. Early help now reaches "
        "more families than last year. Workers offer multi-agency support where it is needed, "
        "and the service supported many families who had waited for too long, so that fewer "
        "children need a child protection plan."
    )
    # "fami-lies" is joined: "families" is printed elsewhere and "fami-lies" never; "multi-"
    # keeps its hyphen: the document writes "multi-agency".
    assert f"\n\n{paragraph}\n\n" in extracted.text


def test_table_rows_are_whole_lines_of_cells(extracted: Extracted) -> None:
    assert "\n\n" + "\n".join(TABLE_ROWS) + "\n\n" in extracted.text


def test_bullets_make_list_items_each_on_one_line(extracted: Extracted) -> None:
    assert "What needs to improve?\n\n" + "\n".join(BULLETS) + "\n\n" in extracted.text


def test_numbered_paragraphs_keep_their_number_as_printed(extracted: Extracted) -> None:
    assert (
        "\n\n1. Social workers visit children often and know them well. Supervision is regular "
        "and helps workers to reflect on the progress of each child.\n\n"
    ) in extracted.text


def test_headings_are_found_by_type_size_and_weight(extracted: Extracted) -> None:
    assert headings_of(extracted) == [
        "Annual review of children’s services",
        "What needs to improve?",
        "The experiences and progress of care leavers: good",
    ]
    for start, end in extracted.headings:
        assert extracted.text[start - 1 : start] in ("", "\n")
        assert extracted.text[end] == "\n"


def test_a_pdf_reads_the_same_every_time(report: Path, extracted: Extracted) -> None:
    assert read_pdf(report, None).extracted == extracted


def test_documents_from_pdfs_carry_the_extracted_text(report: Path, extracted: Extracted) -> None:
    loaded = load_corpus(report.parent)
    (document,) = loaded.documents
    assert document.text == extracted.text
    assert document.title == "Northmoor annual review"


# --- highlighting a passage on its page ------------------------------------------------------


def words(text: str) -> list[str]:
    """Words as printed; PDFium gives a hyphen that ends a line as U+FFFE or U+0002."""
    return re.findall(r"[\w’'-]+", re.sub("[\ufffe\x02]", "-", text))


def test_highlight_boxes_cover_exactly_the_passage_words_on_each_page(report: Path) -> None:
    text = read_pdf(report, None).extracted.text
    start = text.index("Early help now reaches")
    end = text.index("need a child protection plan.") + len("need a child protection plan.")
    with pypdfium2.PdfDocument(report) as document:
        covered: list[str] = []
        for page_number in (1, 2):
            textpage = document[page_number - 1].get_textpage()
            for box in passage_boxes(report, page_number, start, end):
                covered += words(
                    textpage.get_text_bounded(box.left, box.bottom, box.right, box.top)
                )
    # The words as printed, over two lines ("multi- agency") and two pages ("fami lies": the
    # hyphen the layout added is not in the text, so not under a box).
    assert covered == words(
        "Early help now reaches more families than last year. Workers offer multi- agency "
        "support where it is needed, and the service supported many fami lies who had "
        "waited for too long, so that fewer children need a child protection plan."
    )
    assert passage_boxes(report, 3, start, end) == []


def test_rendered_page_shows_the_highlight_over_the_passage_only(report: Path) -> None:
    from PIL import Image

    text = read_pdf(report, None).extracted.text
    start = text.index("The quality of plans for care leavers.")
    end = start + len("The quality of plans for care leavers.")
    plain = Image.open(io.BytesIO(render_page(report, 1))).convert("RGB")
    marked = Image.open(io.BytesIO(render_page(report, 1, highlight=(start, end)))).convert("RGB")
    assert plain.size == marked.size and plain.width > 1000  # 2 pixels per point

    def yellow(image: Image.Image, area: tuple[int, int, int, int]) -> float:
        pixels = np.asarray(image.crop(area), dtype=int)
        return float(np.mean(pixels[..., 2] < np.minimum(pixels[..., 0], pixels[..., 1]) - 40))

    (box,) = passage_boxes(report, 1, start, end)
    height = plain.height
    area = (
        round(box.left * 2),
        round(height - box.top * 2),
        round(box.right * 2),
        round(height - box.bottom * 2),
    )
    assert yellow(marked, area) > 0.5 and yellow(plain, area) == 0
    title = (144, round(height - 760 * 2), 900, round(height - 735 * 2))
    assert plain.crop(title).tobytes() == marked.crop(title).tobytes()
    with pytest.raises(ValueError, match="no page 4"):
        render_page(report, 4)


# --- the 17 Ofsted reports ------------------------------------------------------------------

GRADES = {
    "outstanding": "Outstanding",
    "good": "Good",
    "requires improvement": "Requires improvement to be good",
    "inadequate": "Inadequate",
}
ASPECTS = {
    "impact_of_leaders_grade": r"The impact of leaders on social work practice with children and families",
    "help_and_protection_grade": r"The experiences and progress of children who need help and protection",
    "in_care_grade": r"The experiences and progress of children in care( and care leavers)?",
    "care_leavers_grade": r"The experiences and progress of (children )?care leavers",
    "overall_effectiveness_grade": r"Overall effectiveness",
}


@cache
def read_report(name: str) -> PdfText:
    return read_pdf(ILACS / "reports" / name, None)


# Where reports.csv disagrees with the report: Oxfordshire 2018's table and its section heading
# ("The experiences and progress of children in care and care leavers is good") say good.
CSV_ERRATA = {("50004449.pdf", "in_care_grade"): "good"}


def report_facts() -> list[dict[str, str]]:
    with (ILACS / "reports.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for (name, column), value in CSV_ERRATA.items():
            if row["file"] == name:
                row[column] = value
    return rows


@needs_reports
def test_a_real_report_keeps_its_table_list_headings_and_pages() -> None:
    extracted = read_report("50200026.pdf").extracted
    text = extracted.text
    assert (
        "Judgement | Grade\n"
        "The impact of leaders on social work practice with children and families | Requires improvement to be good\n"
    ) in text
    assert (
        "What needs to improve?\n\n◼ The effectiveness of how managers support social workers"
        in text
    )
    assert "3 to 14 October 2022" not in text.split("\n\n", 3)[-1]  # only on the title page
    assert len(extracted.pages) == 11
    assert "What needs to improve?" in headings_of(extracted)


@each_report
def test_no_running_header_or_page_number_is_left_in_a_report(path: Path) -> None:
    text = read_report(path.name).extracted.text
    with pypdfium2.PdfDocument(path) as document:
        band = 0.1 * document[0].get_height()
        edges, middles = [], []
        for page in document:
            textpage = page.get_textpage()
            height = page.get_height()
            edge = (
                textpage.get_text_bounded(top=band)
                + "\n"
                + textpage.get_text_bounded(bottom=height - band)
            )
            edges.append({line.strip() for line in edge.splitlines() if line.strip()})
            middles.append(
                re.sub(r"\s+", " ", textpage.get_text_bounded(bottom=band, top=height - band))
            )
    counts: dict[str, int] = {}
    for lines in edges:
        for line in {re.sub(r"\d+", "#", line) for line in lines}:
            counts[line] = counts.get(line, 0) + 1
    running = {
        line
        for lines in edges
        for line in lines
        if counts[re.sub(r"\d+", "#", line)] >= len(edges) / 2
    }
    assert running, "every report has a running header or page number"
    for line in running:
        # A running line may be in the text only as often as the page body prints it.
        assert text.count(line) <= sum(middle.count(line) for middle in middles), line
    assert not re.search(r"^\d+$", text, re.MULTILINE)


@each_report
def test_each_page_of_a_report_starts_where_its_own_text_does(path: Path) -> None:
    extracted = read_report(path.name).extracted
    raw = raw_page_words(path)
    assert len(extracted.pages) == len(raw)
    assert list(extracted.pages) == sorted(extracted.pages)
    for number, start in enumerate(extracted.pages, 1):
        following = words(extracted.text[start : start + 200])[:6]
        if following and number < len(raw) and extracted.pages[number] > start:
            assert " ".join(following) in raw[number - 1], (number, following)
        if number > 1 and start > 0:
            before = words(extracted.text[max(0, start - 200) : start])[-6:]
            page_before = bisect.bisect_right(extracted.pages, start - 1)
            assert " ".join(before) in raw[page_before - 1], (number, before)


@pytest.mark.slow
@needs_reports
def test_every_judgement_of_every_report_is_one_table_row_with_its_grade() -> None:
    checked = 0
    for facts in report_facts():
        lines = read_report(facts["file"]).extracted.text.splitlines()
        assert lines.count("Judgement | Grade") == 1, facts["file"]
        for column, aspect in ASPECTS.items():
            grade = GRADES.get(facts[column])
            if grade is None:  # not judged in that report
                continue
            row = re.compile(rf"{aspect} \| {re.escape(grade)}")
            assert any(row.fullmatch(line) for line in lines), (facts["file"], column, grade)
            checked += 1
    assert checked >= 17 * 4


@each_report
def test_what_needs_to_improve_is_a_heading_over_whole_list_items(path: Path) -> None:
    extracted = read_report(path.name).extracted
    text = extracted.text
    (found,) = re.finditer(r"^What needs to improve[?:]?\n\n((?:.+\n)+)\n", text, re.MULTILINE)
    assert found.group(0).split("\n")[0] in headings_of(extracted)
    items = found.group(1).splitlines()
    assert len(items) >= 2
    for item in items:
        assert re.match(r"[◼•] [A-Za-z]", item), item
        assert item.endswith((".", ")")) or item[2:3].islower(), item  # a whole item, not a piece


@each_report
def test_words_hyphenated_at_line_ends_are_whole_words(path: Path) -> None:
    text = read_report(path.name).extracted.text
    with pypdfium2.PdfDocument(path) as document:
        # PDFium marks a hyphen that ends a line as U+FFFE and runs on into the next line.
        raw = "".join(page.get_textpage().get_text_range() for page in document)
    hyphenated = re.findall(r"(\w+)(?:\ufffe|-\r?\n)(\w+)", raw)
    assert all(f"{left}-{right}" in text or f"{left}{right}" in text for left, right in hyphenated)


@each_report
def test_report_headings_are_its_title_and_judgement_sections(path: Path) -> None:
    headings = headings_of(read_report(path.name).extracted)
    sections = [h for h in headings if h.startswith(("The experiences and progress", "The impact"))]
    assert len(sections) in (3, 4), headings
    assert any(h.startswith("What needs to improve") for h in headings)
    assert not [h for h in headings if h.endswith(".")]
    assert len(headings) <= 8, headings


@pytest.mark.slow
@needs_reports
def test_reading_the_reports_prints_speed_and_what_the_layout_removed(
    ci_log: Callable[[str], None],
) -> None:
    """Figures for the README and the issue: pages per second against pypdf's plain
    extraction (what qa used before), running lines removed and headings found per report."""
    import time

    from pypdf import PdfReader

    started = time.perf_counter()
    read = [read_pdf(path, None) for path in REPORTS]
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for path in REPORTS:
        for page in PdfReader(path).pages:
            page.extract_text()
    plain_seconds = time.perf_counter() - started
    pages = sum(len(pdf.page_bases) for pdf in read)
    ci_log(
        "\n".join(
            [
                f"{len(REPORTS)} reports, {pages} pages: {pages / seconds:.0f} pages/s "
                f"(pypdf extract_text: {pages / plain_seconds:.0f} pages/s)",
                *(
                    f"{path.name}: {len(pdf.page_bases)} pages, {pdf.removed_lines} running "
                    f"lines removed, {len(pdf.extracted.headings)} headings"
                    for path, pdf in zip(REPORTS, read, strict=True)
                ),
            ]
        )
    )
    for pdf in read:  # every page but the title page has a running header or page number
        assert pdf.removed_lines >= len(pdf.page_bases) - 1
