"""Loading files into documents: every format, broken files, legacy encodings, sidecars."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from qa.corpus import Extracted, decode_text, load_corpus
from qa.corpus.html_reader import read_html
from qa.corpus.readers import extract
from qa.settings import Settings
from qa.types import Document

from .conftest import make_pdf, write_corpus

LIMITS = Settings().read_limits


def load_one(root: Path, name: str) -> Document:
    loaded = load_corpus(root)
    assert not loaded.errors, [str(e) for e in loaded.errors]
    (document,) = [d for d in loaded.documents if d.source == name]
    return document


def make_docx(path: Path, title: str | None = None) -> Path:
    import docx

    document = docx.Document()
    if title:
        document.core_properties.title = title
    document.add_heading("Local offer for care leavers", level=1)
    document.add_paragraph("Care leavers are exempt from council tax until they turn 25.")
    document.add_paragraph("Free gym membership", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for row, (benefit, limit) in enumerate(
        [("Benefit", "Age limit"), ("Council tax", "25"), ("Gym", "21")]
    ):
        table.cell(row, 0).text = benefit
        table.cell(row, 1).text = limit
    document.add_paragraph("Ask your personal adviser for details.")
    document.save(str(path))
    return path


# --- formats -------------------------------------------------------------------------------------


def test_txt_loads_text_and_title_from_opening_line(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            "note.txt": "Short Breaks for Disabled Children\n\n"
            "The short breaks service supported 240 families.\n"
        },
    )
    document = load_one(root, "note.txt")
    assert document.format == "text"
    assert "The short breaks service supported 240 families." in document.text
    assert document.title == "Short Breaks for Disabled Children"


def test_markdown_keeps_heading_and_list(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            "notes.md": "# Scrutiny notes\n\n"
            "The committee asked about caseloads.\n\n- Item one\n- Item two\n"
        },
    )
    document = load_one(root, "notes.md")
    assert document.format == "markdown"
    assert document.title == "Scrutiny notes"
    assert "The committee asked about caseloads." in document.text
    assert "- Item one\n- Item two" in document.text


HTML = """<!doctype html>
<html><head><title>Fostering Review 2023</title>
<script>var tracker = "SECRET-TRACKING-CODE";</script>
<style>p { color: red; }</style></head>
<body>
<h1>Fostering review</h1>
<p>Croydon recruited <b>twelve</b> new foster carers.</p>
<h2>Next steps</h2>
<ul><li>Recruit more carers</li><li>Improve training</li></ul>
<script>document.write("INJECTED-SCRIPT-TEXT")</script>
<table><tr><th>Year</th><th>Carers</th></tr><tr><td>2023</td><td>12</td></tr></table>
</body></html>
"""


def test_html_text_headings_lists_and_title_without_scripts(tmp_path: Path) -> None:
    root = write_corpus(tmp_path, {"page.html": HTML})
    document = load_one(root, "page.html")
    assert document.format == "html"
    assert document.title == "Fostering Review 2023"
    # Inline markup does not split a sentence.
    assert "Croydon recruited twelve new foster carers." in document.text
    # Headings, list items and table rows as the page shows them, without markup.
    assert document.text.startswith("Fostering review\n\n")
    assert "\n\nNext steps\n\n" in document.text
    assert "• Recruit more carers\n• Improve training" in document.text
    assert "Year | Carers\n2023 | 12" in document.text
    assert "#" not in document.text and "- " not in document.text
    for hidden in ("SECRET-TRACKING-CODE", "INJECTED-SCRIPT-TEXT", "color: red"):
        assert hidden not in document.text


def test_html_structure_is_written_as_the_page_shows_it_with_heading_spans() -> None:
    page = b"""<html><body><h1>Fostering <em>review</em></h1>
    <p>Foster carers asked for:</p>
    <ol start="3"><li>More respite</li><li>Training<ul><li>online</li></ul></li></ol>
    <h2>Contact</h2><p>Fostering team<br>Town Hall</p>
    <table><tr><td>Carers</td><td><p>12</p><p>new</p></td></tr></table></body></html>"""
    extracted = read_html(page, LIMITS)
    assert extracted.text == (
        "Fostering review\n\nFoster carers asked for:\n\n3. More respite\n4. Training\n• online"
        "\n\nContact\n\nFostering team\nTown Hall\n\nCarers | 12 new\n"
    )
    assert [extracted.text[a:b] for a, b in extracted.headings] == ["Fostering review", "Contact"]
    assert extracted.pages == ()


def test_docx_lists_carry_the_numbers_and_bullets_word_prints(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_heading("Action plan", level=1)
    document.add_paragraph("Recruit foster carers", style="List Number")
    document.add_paragraph("Train\tsocial workers", style="List Number")
    document.add_paragraph("Quarterly review", style="List Bullet")
    document.add_heading("Budget", level=2)
    document.add_paragraph("The budget is set in March.")
    document.save(str(tmp_path / "plan.docx"))
    extracted = extract("docx", tmp_path / "plan.docx", LIMITS)
    assert extracted.text == (
        "Action plan\n\n1. Recruit foster carers\n2. Train social workers\n• Quarterly review"
        "\n\nBudget\n\nThe budget is set in March.\n"
    )
    assert [extracted.text[a:b] for a, b in extracted.headings] == ["Action plan", "Budget"]


def test_text_files_are_read_as_they_are_without_pages_or_headings(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\n- item\n", encoding="utf-8")
    assert extract("markdown", tmp_path / "notes.md", LIMITS) == Extracted(
        "# Notes\n\n- item\n", None
    )


def test_htm_suffix_is_html(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path, {"old.htm": "<html><body><p>Legacy page about respite care.</p></body></html>"}
    )
    document = load_one(root, "old.htm")
    assert document.format == "html"
    assert "Legacy page about respite care." in document.text


def test_pdf_text_of_every_page_and_metadata_title(tmp_path: Path) -> None:
    make_pdf(
        tmp_path / "report.pdf",
        [
            [
                "Adoption panel met eleven times this year.",
                "Matching times improved for young children.",
            ],
            ["The second page names the regional adoption agency."],
        ],
        title="Annual Adoption Report",
    )
    document = load_one(tmp_path, "report.pdf")
    assert document.format == "pdf"
    assert document.title == "Annual Adoption Report"
    assert "Adoption panel met eleven times this year." in document.text
    assert "Matching times improved for young children." in document.text
    assert "The second page names the regional adoption agency." in document.text
    assert document.text.index("eleven times") < document.text.index("second page")


def test_docx_heading_paragraphs_table_and_core_title(tmp_path: Path) -> None:
    make_docx(tmp_path / "offer.docx", title="Care Leavers Offer")
    document = load_one(tmp_path, "offer.docx")
    assert document.format == "docx"
    assert document.title == "Care Leavers Offer"
    assert document.text.startswith("Local offer for care leavers\n\n")
    assert "Care leavers are exempt from council tax until they turn 25." in document.text
    # Word prints the list bullet from its numbering definitions (a Symbol-font private-use
    # character, written as "•").
    assert "\n• Free gym membership\n" in document.text
    # The table keeps its rows and cells in order, one row per line.
    assert "Benefit | Age limit\nCouncil tax | 25\nGym | 21" in document.text
    # Content after the table is still there, in document order.
    assert document.text.index("Gym | 21") < document.text.index("Ask your personal adviser")
    assert "#" not in document.text


def test_docx_without_core_title_uses_its_heading(tmp_path: Path) -> None:
    make_docx(tmp_path / "offer.docx")
    assert load_one(tmp_path, "offer.docx").title == "Local offer for care leavers"


def test_documents_are_found_in_subfolders_with_posix_sources(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path, {"a/b/deep.txt": "A document in a nested folder about adoption.\n"}
    )
    loaded = load_corpus(root)
    assert [d.source for d in loaded.documents] == ["a/b/deep.txt"]


def test_hidden_files_and_sidecars_are_not_documents(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            ".hidden.txt": "should not load",
            ".git/config.txt": "should not load either",
            "real.txt": "A real document about care leavers.\n",
            "real.txt.meta.json": '{"title": "Real"}',
        },
    )
    loaded = load_corpus(root)
    assert [d.source for d in loaded.documents] == ["real.txt"]
    assert loaded.errors == ()


# --- files that cannot be read -------------------------------------------------------------------


def test_broken_files_are_reported_by_name_and_reason_and_the_rest_load(tmp_path: Path) -> None:
    good_pdf = make_pdf(tmp_path / "source.pdf", [["A perfectly good PDF about adoption support."]])
    data = good_pdf.read_bytes()
    good_pdf.unlink()
    files: dict[str, str | bytes] = {
        "good.txt": "Good document about the fostering allowance.\n",
        "random.pdf": random.Random(7).randbytes(3000),
        "truncated.pdf": data[: len(data) // 2],
        "binary.txt": b"\x00\x01\x02PK\x00header" * 100,
        "empty.txt": b"",
        "sheet.xlsx": b"PK\x03\x04 a spreadsheet",
    }
    root = write_corpus(tmp_path / "corpus", files)
    loaded = load_corpus(root)
    assert [d.source for d in loaded.documents] == ["good.txt"]
    reasons = {e.source: e.reason for e in loaded.errors}
    assert set(reasons) == {"random.pdf", "truncated.pdf", "binary.txt", "empty.txt", "sheet.xlsx"}
    assert "corrupt" in reasons["random.pdf"] and "PDF" in reasons["random.pdf"]
    assert "corrupt" in reasons["truncated.pdf"]
    assert "binary" in reasons["binary.txt"]
    assert reasons["empty.txt"] == "empty file"
    assert "unsupported file type '.xlsx'" in reasons["sheet.xlsx"]
    # The message shown to the user names the file.
    assert all(str(e).startswith(e.source + ": ") for e in loaded.errors)


def test_encrypted_pdf_is_reported_as_encrypted(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    source = make_pdf(tmp_path / "plain.pdf", [["Confidential adoption case notes."]])
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="secret", owner_password="owner")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with (corpus / "locked.pdf").open("wb") as handle:
        writer.write(handle)
    loaded = load_corpus(corpus)
    assert loaded.documents == ()
    (error,) = loaded.errors
    assert error.source == "locked.pdf"
    assert "encrypted" in error.reason and "password" in error.reason


def test_pdf_without_text_suggests_ocr(tmp_path: Path) -> None:
    make_pdf(tmp_path / "scan.pdf", [[]])
    (error,) = load_corpus(tmp_path).errors
    assert error.source == "scan.pdf"
    assert "no text" in error.reason and "OCR" in error.reason


def test_corrupt_docx_is_reported(tmp_path: Path) -> None:
    root = write_corpus(tmp_path, {"fake.docx": b"this is not a zip archive"})
    (error,) = load_corpus(root).errors
    assert error.source == "fake.docx"
    assert "corrupt DOCX" in error.reason


def test_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path, {"big.txt": "word " * 1000, "small.txt": "A small file about adoption.\n"}
    )
    loaded = load_corpus(root, Settings(max_file_mb=0.002).read_limits)
    assert [d.source for d in loaded.documents] == ["small.txt"]
    (error,) = loaded.errors
    assert error.source == "big.txt" and "limit" in error.reason


def test_whitespace_only_file_has_no_text(tmp_path: Path) -> None:
    root = write_corpus(tmp_path, {"blank.txt": "   \n\n\t\n"})
    (error,) = load_corpus(root).errors
    assert error.source == "blank.txt" and error.reason == "no text found"


# --- encodings -----------------------------------------------------------------------------------

CP1252_SENTENCE = "The council spent £22.2m on children’s services – “a record”"


def test_windows_1252_file_decodes_exactly(tmp_path: Path) -> None:
    root = write_corpus(tmp_path, {"legacy.txt": (CP1252_SENTENCE + "\n").encode("cp1252")})
    assert load_one(root, "legacy.txt").text == CP1252_SENTENCE + "\n"


@pytest.mark.parametrize(
    "text",
    [
        "£5",
        "Café",
        "Cost: £500",
        "€100 spent",
        "Minutes of the meeting – 5 March",
        "The budget was £2.2m.\n",
        "Résumé of the officer’s report\n",
        CP1252_SENTENCE,
    ],
)
def test_short_windows_1252_texts_decode_exactly(text: str) -> None:
    # A short note is where guessing an encoding from byte statistics goes wrong.
    assert decode_text(text.encode("cp1252")) == text


def test_file_mixing_utf8_and_windows_1252_lines_decodes_both(tmp_path: Path) -> None:
    utf8_line = "First line in UTF-8: café costs £5 – “quoted” €3\n"
    cp1252_line = "Second line pasted from Word: naïve £7 – “quoted” €9 children’s\n"
    data = utf8_line.encode("utf-8") + cp1252_line.encode("cp1252") + utf8_line.encode("utf-8")
    root = write_corpus(tmp_path, {"mixed.txt": data})
    assert load_one(root, "mixed.txt").text == utf8_line + cp1252_line + utf8_line


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        (
            "Отчёт о проверке службы защиты детей. Совет рассмотрел доклад и отметил улучшения.\n",
            "cp1251",
        ),
        (
            "Η επιτροπή εξέτασε την έκθεση για τις υπηρεσίες παιδιών και σημείωσε βελτιώσεις.\n",
            "cp1253",
        ),
        ("Die Größe der Straße – für Kinder und Jugendliche, Übergröße.\n", "cp1252"),
    ],
    ids=["russian-cp1251", "greek-cp1253", "german-cp1252"],
)
def test_other_legacy_encodings_are_not_forced_to_windows_1252(text: str, encoding: str) -> None:
    assert decode_text(text.encode(encoding)) == text


def test_utf8_with_bom_and_utf16_decode() -> None:
    assert decode_text("\ufeffCroydon’s report".encode()) == "Croydon’s report"
    assert decode_text("Croydon’s report – £5".encode("utf-16")) == "Croydon’s report – £5"


def test_text_files_keep_their_exact_text_so_offsets_index_the_file(tmp_path: Path) -> None:
    # Windows line endings, trailing spaces and blank lines stay: a passage's offsets are
    # offsets into the file as decoded (issue 14).
    data = b"First paragraph here.  \r\n\r\n\r\n\r\nSecond paragraph.\r\n\x0cAnnex\r\n"
    root = write_corpus(tmp_path, {"crlf.txt": data})
    assert load_one(root, "crlf.txt").text == data.decode()


# --- sidecar metadata ----------------------------------------------------------------------------


def test_sidecar_overrides_title_and_date(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            "report-2019.txt": "REPORT TO:\tCABINET 23rd MARCH 2020\n\nText about adoption.\n",
            "report-2019.txt.meta.json": json.dumps(
                {"title": "Adoption Services Report", "date": "2021-06-30"}
            ),
        },
    )
    document = load_one(root, "report-2019.txt")
    assert document.title == "Adoption Services Report"
    assert document.date == "2021-06-30"


def test_sidecar_with_only_a_date_keeps_the_title(tmp_path: Path) -> None:
    root = write_corpus(
        tmp_path,
        {
            "note.txt": "Short Breaks for Disabled Children\n\nThe service helped 240 families.\n",
            "note.txt.meta.json": '{"date": "2018-05"}',
        },
    )
    document = load_one(root, "note.txt")
    assert document.title == "Short Breaks for Disabled Children"
    assert document.date == "2018-05"


@pytest.mark.parametrize(
    "content", ['{"date": "30/06/2021"}', '{"date": "2021-13-01"}', "not json", "[1, 2]"]
)
def test_invalid_sidecar_is_reported(tmp_path: Path, content: str) -> None:
    root = write_corpus(
        tmp_path, {"note.txt": "A note about adoption services.\n", "note.txt.meta.json": content}
    )
    loaded = load_corpus(root)
    assert loaded.documents == ()
    (error,) = loaded.errors
    assert error.source == "note.txt"
    assert "note.txt.meta.json" in error.reason
