"""The app on a corpus of several councils with a PDF among its documents, driven by AppTest.

A user's corpus holds reports of many councils, mostly PDFs: the source view of a PDF
passage shows its printed page with the passage highlighted, the sidebar narrows a search
to some organisations (and a shared link keeps that), the Judgements page lists each
organisation's grades and follows that choice, and the Documents page says whom each
document is about, what it is and its format. The corpus: an inspection report of an
invented council drawn as a two-page PDF, the invented Northmoor council of the tests'
fixtures (text, HTML, Markdown) and one shipped Croydon report.
"""

from __future__ import annotations

import base64
import io
import re
import shutil
from pathlib import Path

import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.conftest import CABINET_2020, OTHER_COUNCIL, SHIPPED_CORPUS, make_pdf
from tests.test_app import Workspace, ask, indexed, passages, sources, start, switch, use

pytestmark = pytest.mark.slow

PDF = "eastbrook-inspection.pdf"
PAGES = [
    [
        "Inspection of Eastbrook local authority children's services",
        "",
        "Inspection dates: 3 to 14 March 2025",
        "",
        "Children in Eastbrook who need help and protection are seen quickly by social",
        "workers who know them well. Leaders understand the quality of practice and act",
        "on what audits and the views of families tell them about it.",
        "",
        "Early help is offered to families as soon as a need is known, and most families",
        "say that the help made a difference to their children. Thresholds for help are",
        "understood by partner agencies, and referrals are made for the right reasons.",
        "",
        "Strategy meetings are held promptly when children may be at risk of harm, and",
        "the police, health services and schools attend them and share what they know.",
        "Child protection plans are specific, and reviews check whether they are working.",
        "",
        "Disabled children receive help from a specialist team that knows them well, and",
        "short breaks give their families time to rest. Assessments of disabled children",
        "take account of how they communicate and of what their parents and carers say.",
        "",
        "Children in care live in stable homes close to their schools and their families,",
        "and their health needs are met promptly by the looked after children nurses, who",
    ],
    [
        "visit them at home and see them alone. Their personal education plans are up to",
        "date, and the virtual school tracks their attendance every week.",
        "",
        "Care leavers have personal advisers who stay in touch with them, and most live",
        "in suitable accommodation. Those who are not in education, employment or training",
        "are offered apprenticeships with the council and its partners.",
        "",
        "Leaders know their services well. Caseloads are manageable, and social workers",
        "say that they receive regular supervision that helps them reflect on their work.",
        "",
        "Children who go missing from home or care are offered a return home interview,",
        "and what they say is used to plan their safety. Exploitation is understood well",
        "by the multi-agency team, which tracks the places where children are at risk.",
        "",
        "What needs to improve?",
        "",
        "The sufficiency of homes for teenagers with complex needs.",
        "",
        "Foster carers in Eastbrook receive a weekly fostering allowance and monthly",
        "training from the fostering service, and most carers say they feel well",
        "supported by their supervising social workers.",
    ],
]
FOSTERING = "How are foster carers supported with allowances and training?"
CARE = "Are the health needs of children in care met, and do they see the nurses alone?"


@pytest.fixture(scope="module")
def councils(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = tmp_path_factory.mktemp("councils")
    corpus = root / "corpus"
    corpus.mkdir()
    make_pdf(corpus / PDF, PAGES)
    for path in OTHER_COUNCIL.iterdir():
        shutil.copyfile(path, corpus / path.name)
    shutil.copyfile(SHIPPED_CORPUS / CABINET_2020, corpus / CABINET_2020)
    return indexed(corpus, root / "index")


@pytest.fixture
def several(councils: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    use(monkeypatch, councils)
    return councils


def test_the_source_of_a_pdf_passage_shows_its_printed_page_highlighted(
    several: Workspace,
) -> None:
    at = ask(start(), FOSTERING)
    assert sources(at)[0] == PDF
    assert at.code[0].value.endswith(", p. 2"), "the citation names the page"
    at.button(key="source-main-1").click().run()
    assert not at.exception
    printed, text = views(at)
    assert re.findall(r"Page (\d+)</figcaption>", printed) == ["2"]
    assert '<mark id="passage">The sufficiency of homes' in text
    image = page_image(printed, 0)
    width, height = image.size
    assert height > width > 1000, "an A4 page, sharp at the dialog's width"
    rows = highlighted_rows(image)
    assert rows, "the passage is highlighted"
    anchor = re.search(r'<span id="passage" style="top: ([\d.]+)%">', printed)
    assert anchor is not None
    assert abs(rows[0] / height - float(anchor.group(1)) / 100) < 0.02, "opens on the passage"
    assert rows[0] / height > 0.4 and rows[-1] / height < 0.75, "where the passage is printed"


def test_a_passage_running_over_two_pages_shows_both(several: Workspace) -> None:
    at = ask(start(), CARE)
    assert sources(at)[0] == PDF and at.code[0].value.endswith(", pp. 1–2")
    at.button(key="source-main-1").click().run()
    printed, _ = views(at)
    assert re.findall(r"Page (\d+)</figcaption>", printed) == ["1", "2"]
    assert printed.count('id="passage"') == 1
    first, second = page_image(printed, 0), page_image(printed, 1)
    assert highlighted_rows(first)[0] > first.size[1] * 0.5, "from the last lines of page 1"
    assert highlighted_rows(second)[0] < second.size[1] * 0.2, "on to the top of page 2"


def views(at: AppTest) -> tuple[str, str]:
    """The source dialog's printed pages and text, in that order."""
    frames = [frame.proto.srcdoc for frame in at.get("iframe")]
    assert len(frames) == 2 and "<figure>" in frames[0] and "<figure>" not in frames[1]
    return frames[0], frames[1]


def page_image(printed: str, number: int) -> Image.Image:
    encoded = re.findall(r'src="data:image/png;base64,([^"]+)"', printed)[number]
    return Image.open(io.BytesIO(base64.b64decode(encoded))).convert("RGB")


def highlighted_rows(image: Image.Image) -> list[int]:
    """The rows of pixels (every fourth) where the translucent yellow lies over the paper."""
    width, height = image.size
    return [
        y
        for y in range(0, height, 4)
        if any(
            red > 200 and green > 180 and blue < 190
            for red, green, blue in (image.getpixel((x, y)) for x in range(0, width, 8))
        )
    ]


def test_a_text_passage_has_no_printed_page(several: Workspace) -> None:
    at = ask(start(), "placement stability and children's homes in Northmoor")
    assert sources(at)[0].startswith("northmoor-")
    at.button(key="source-main-1").click().run()
    assert len(at.get("iframe")) == 1 and "<figure>" not in at.get("iframe")[0].proto.srcdoc


def test_the_organisation_filter_narrows_results_and_a_shared_link_keeps_it(
    several: Workspace,
) -> None:
    at = ask(start(), CARE)
    assert {"Croydon", "Eastbrook", "Northmoor"} <= set(at.multiselect(key="organisations").options)
    everyone = set(sources(at))
    assert any(s.startswith("northmoor-") for s in everyone) and PDF in everyone
    at.multiselect(key="organisations").set_value(["Northmoor"]).run()
    assert passages(at) and all(s.startswith("northmoor-") for s in sources(at))
    summary = next(h.value for h in at.html if 'class="qa-ranking"' in h.value)
    assert "organisations: Northmoor" in summary

    shared = start(address={"q": CARE, "organisations": ["Eastbrook", "Croydon"]})
    assert set(shared.multiselect(key="organisations").value) == {"Eastbrook", "Croydon"}
    shown = set(sources(shared))
    assert shown and shown <= {PDF, CABINET_2020}


def test_the_documents_page_says_whom_each_document_is_about_and_what_it_is(
    several: Workspace,
) -> None:
    at = start("Documents")
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Title", "Organisation", "Kind", "Date", "Format", "Size", "Passages", "File",
    ]  # fmt: skip
    rows = {row["File"]: row for _, row in table.iterrows()}
    assert (rows[PDF]["Organisation"], rows[PDF]["Kind"], rows[PDF]["Format"]) == (
        "Eastbrook",
        "Inspection report",
        "PDF",
    )
    html_report = rows["northmoor-inspection-children-services.html"]
    assert (html_report["Organisation"], html_report["Format"]) == ("Northmoor", "Web page")
    assert rows[CABINET_2020]["Kind"] == "Council report"
    narrow = next(h.value for h in at.html if 'class="qa-docs"' in h.value)
    assert "Eastbrook · inspection report · PDF" in narrow


def test_a_missing_pdf_still_shows_the_text_of_its_passage(
    several: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = Workspace(tmp_path / "corpus", several.index)
    shutil.copytree(several.corpus, copy.corpus)
    (copy.corpus / PDF).unlink()
    use(monkeypatch, copy)
    at = ask(start(), FOSTERING)
    at.button(key="source-main-1").click().run()
    assert not at.exception
    assert any("no longer in the corpus folder" in note.value for note in at.info)
    assert len(at.get("iframe")) == 1 and '<mark id="passage">' in at.get("iframe")[0].proto.srcdoc


def test_the_judgements_page_lists_each_organisation_and_follows_the_filter(
    several: Workspace,
) -> None:
    def organisations(at: AppTest) -> list[str]:
        return re.findall(
            r'<div class="qa-group qa-rec-head"><span class="qa-title">([^<]+)</span>',
            "".join(h.value for h in at.html),
        )

    at = switch(start(), "Judgements")
    assert organisations(at) == ["Croydon", "Northmoor"]
    northmoor = [h.value for h in at.html if 'class="qa-judgements"' in h.value][1]
    assert "2021" in re.findall(r'<th scope="col">(\w+)</th>', northmoor), "the HTML report's table"
    at.multiselect(key="organisations").set_value(["Northmoor"]).run()
    assert organisations(at) == ["Northmoor"]
    at.multiselect(key="organisations").set_value(["Eastbrook"]).run()
    assert any("for the organisations chosen in the sidebar" in i.value for i in at.info)
