"""The app in a real browser: `streamlit run app.py` driven by headless Chromium via Playwright.

At a desktop (1280 px) and a phone (390 px) width: asks a question, checks that
the answer, a passage and its citation are visible, opens the passage in its
source and checks it is highlighted and scrolled into view; lists the documents;
follows an answer's citation marker to its passage in a side-by-side comparison;
opens a shared link with filters; opens the Recommendations and Judgements pages. Over a
few of the real Ofsted reports (PDF, ../shared/ilacs beside the repository; skipped when
absent): opens a passage on its printed page, highlighted, lists the councils' judgements
and narrows them by organisation from the sidebar. Screenshots of each step go to
$QA_SCREENSHOTS (default tests/screenshots-out) for a person to look at. Skipped when
Chromium is not installed.
"""

from __future__ import annotations

import csv
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from qa.index.build import build_index
from qa.index.embedders import load_embedder
from qa.settings import Settings
from tests.conftest import ILACS, SHIPPED_CORPUS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
QUESTION = "How were homeless 16 and 17 year olds supported in 2024?"
COMPARISON = "How did the judgement for help and protection change between 2020 and 2024?"
WIDTHS = {1280: 1000, 390: 844}
IN_VIEW = (
    "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"
)


def screenshot_folder() -> Path:
    folder = Path(os.environ.get("QA_SCREENSHOTS") or REPO / "tests" / "screenshots-out")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def browser_ready() -> None:
    if not CHROMIUM.is_file():
        pytest.skip(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")


@contextmanager
def serving(corpus: Path, index: Path, log_path: Path) -> Iterator[str]:
    """`streamlit run app.py` on a free port over ``corpus``, its index built first."""
    if (REPO / "index" / "encoders").is_dir():  # skip re-exporting the ONNX question encoder
        shutil.copytree(REPO / "index" / "encoders", index / "encoders")
    settings = Settings(corpus=corpus, index=index)
    build_index(settings, load_embedder(settings.model, settings.batch_size))

    port = free_port()
    env = os.environ | {"QA_CORPUS": str(corpus), "QA_INDEX": str(index)}
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "app.py"),
         "--server.headless", "true", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"streamlit did not start:\n{log_path.read_text()}")
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a copy of the shipped corpus."""
    browser_ready()
    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(SHIPPED_CORPUS, root / "corpus")
    with serving(root / "corpus", root / "index", root / "streamlit.log") as url:
        yield url


def real_reports() -> list[Path]:
    """A few of the real Ofsted reports: every inspection of the council with the most, and
    the first of the next council (two organisations, several dates, PDFs as users have them)."""
    facts = ILACS / "reports.csv"
    if not facts.is_file():
        pytest.skip(f"the real reports are not at {ILACS} (CI has them beside the repository)")
    with facts.open(encoding="utf-8") as handle:
        rows = sorted(csv.DictReader(handle), key=lambda r: (r["local_authority"], r["file"]))
    by_council: dict[str, list[str]] = {}
    for row in rows:
        by_council.setdefault(row["local_authority"], []).append(row["file"])
    most = max(by_council, key=lambda council: len(by_council[council]))
    other = next(council for council in sorted(by_council) if council != most)
    return [ILACS / "reports" / name for name in (*by_council[most], by_council[other][0])]


@pytest.fixture(scope="module")
def reports_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app over a few real reports (PDF)."""
    browser_ready()
    root = tmp_path_factory.mktemp("reports")
    corpus = root / "corpus"
    corpus.mkdir()
    for path in real_reports():
        shutil.copyfile(path, corpus / path.name)
    with serving(corpus, root / "index", root / "streamlit.log") as url:
        yield url


def assert_fits(page: Any) -> None:
    """No sideways scrolling of the page itself (a wide table may scroll inside it)."""
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the page is wider than the window"


@contextmanager
def browser_page(width: int) -> Iterator[Any]:
    """A page of headless Chromium at a phone's or a laptop's size, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": WIDTHS[width]})
        finally:
            browser.close()


@pytest.mark.parametrize("width", list(WIDTHS))
def test_question_passage_citation_and_source_view(
    server: str, width: int, ci_log: Callable[[str], None]
) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    with browser_page(width) as page:
        page.goto(server)
        box = page.get_by_label("Your question")
        box.wait_for(timeout=90_000)
        expect(page.get_by_text("Try an example question")).to_be_visible()
        page.wait_for_timeout(500)
        page.screenshot(path=folder / f"empty-{width}.png")

        box.fill(QUESTION)
        page.get_by_test_id("stBaseButton-primaryFormSubmit").first.click()
        page.wait_for_url("**?q=*", timeout=30_000)  # the question is in the address to share
        passage = page.locator(".qa-passage").first
        expect(passage).to_be_visible(timeout=60_000)
        citation = page.locator(".qa-cite").first
        expect(citation).to_be_visible()
        expect(citation.locator(".qa-title")).not_to_be_empty()
        expect(citation.locator(".qa-where")).to_contain_text("para")
        expect(page.locator(".qa-answer a.qa-marker").first).to_be_visible()
        expect(page.locator("[data-testid='stCode']").first).to_be_visible()
        expect(passage.locator("mark").first).to_be_visible()
        assert passage.bounding_box()["width"] <= width  # type: ignore[index]
        assert_fits(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=folder / f"results-{width}.png")

        page.get_by_role("button", name="View in source").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        frame = page.frame_locator('iframe[title^="Text of"]')
        mark = frame.locator("mark#passage")
        expect(mark).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)  # the page's script scrolls the passage into view
        assert mark.evaluate(IN_VIEW), "the passage is not scrolled into view"
        assert frame.locator("body").evaluate("b => b.innerText.length") > 5000
        page.screenshot(path=folder / f"source-{width}.png")

        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        page.get_by_role("link", name="Documents").click()
        expect(page.get_by_text("Up to date with the corpus folder")).to_be_visible()
        table, narrow = page.get_by_test_id("stDataFrame"), page.locator(".qa-docs")
        if width > 800:
            expect(table).to_be_visible()
            expect(narrow).to_be_hidden()
        else:  # a table would show only the titles: each title with its date and size below
            expect(table).to_be_hidden()
            expect(narrow).to_be_visible()
            expect(narrow.locator("li")).to_have_count(5)
            expect(narrow.locator("li").filter(has_text="23 March 2020 ·")).to_be_visible()
            assert narrow.bounding_box()["width"] <= width  # type: ignore[index]
        page.wait_for_timeout(1000)
        page.screenshot(path=folder / f"documents-{width}.png")
    ci_log(f"screenshots at {width} px saved in {folder}")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_answer_markers_and_side_by_side_comparison(server: str, width: int) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    with browser_page(width) as page:
        page.goto(f"{server}/?{urllib.parse.urlencode({'q': COMPARISON})}")
        answer = page.locator(".qa-answer")
        expect(answer).to_be_visible(timeout=90_000)
        expect(page.locator(".qa-hit")).to_have_count(5, timeout=30_000)
        headings = page.locator(".qa-group .qa-date").all_inner_texts()
        years = [h.split(" · ")[0][-4:] for h in headings]
        assert years == sorted(years) and {"2020", "2024"} <= set(years), "oldest first"
        if width > 800:  # side by side; a phone stacks the columns
            boxes = [page.locator(".qa-group").nth(i).bounding_box() for i in range(2)]
            assert boxes[0]["x"] < boxes[1]["x"] and abs(boxes[0]["y"] - boxes[1]["y"]) < 5  # type: ignore[index]
        assert_fits(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=folder / f"comparison-{width}.png")

        ids = set(page.locator(".qa-hit").evaluate_all("hits => hits.map(h => h.id)"))
        markers = page.locator("a.qa-marker")
        hrefs = markers.evaluate_all("links => links.map(a => a.getAttribute('href'))")
        assert hrefs and all(h.startswith("#") and h[1:] in ids for h in hrefs)
        markers.last.click()
        target = page.locator(hrefs[-1])
        page.wait_for_timeout(1000)
        assert page.url.endswith(hrefs[-1])
        assert target.evaluate(IN_VIEW), "the marker did not scroll to its passage"
        assert target.evaluate("e => e.matches(':target')")
        page.screenshot(path=folder / f"marker-{width}.png")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_shared_link_keeps_the_question_and_the_filters(server: str, width: int) -> None:
    from playwright.sync_api import expect

    address = urllib.parse.urlencode({"q": QUESTION, "k": "3", "mode": "Exact words only"})
    with browser_page(width) as page:
        page.goto(f"{server}/?{address}")
        expect(page.locator(".qa-hit")).to_have_count(3, timeout=90_000)
        summary = page.locator(".qa-ranking")
        expect(summary).to_contain_text("Searched by Exact words only")
        if width > 800:  # the sidebar is open beside the results: a change goes to the address
            page.get_by_text("Meaning only").click()
            page.wait_for_url("**mode=Meaning+only*", timeout=30_000)
            expect(summary).to_contain_text("Searched by Meaning only")
            assert "k=3" in page.url and "q=How+were" in page.url


@pytest.mark.parametrize("width", list(WIDTHS))
def test_recommendations_view(server: str, width: int) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    with browser_page(width) as page:
        page.goto(server)
        page.get_by_label("Your question").wait_for(timeout=90_000)
        page.get_by_role("link", name="Recommendations").click()
        for status in ("Addressed", "Repeated", "New"):  # the page streams in: wait for each
            badge = page.locator(".qa-badge", has_text=status).first
            expect(badge).to_be_visible(timeout=90_000)
        assert_fits(page)
        page.wait_for_timeout(1000)
        page.screenshot(path=folder / f"recommendations-{width}.png")
        repeated = page.locator('.qa-rec[data-status="repeated"]').first
        repeated.scroll_into_view_if_needed()
        expect(repeated).to_contain_text("Listed again in")
        page.wait_for_timeout(500)
        page.screenshot(path=folder / f"recommendations-repeated-{width}.png")

        page.get_by_role("button", name="View the progress in source").first.click()
        frame = page.frame_locator('iframe[title^="Text of"]')
        expect(frame.locator("mark#passage")).to_be_visible(timeout=30_000)
        page.wait_for_timeout(1000)
        assert frame.locator("mark#passage").evaluate(IN_VIEW)
        page.screenshot(path=folder / f"recommendations-source-{width}.png")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_judgements_view(server: str, width: int) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    with browser_page(width) as page:
        page.goto(server)
        page.get_by_label("Your question").wait_for(timeout=90_000)
        page.get_by_role("link", name="Judgements").click()
        table = page.locator("table.qa-judgements")
        expect(table).to_be_visible(timeout=90_000)
        expect(table.locator("thead th")).to_have_text(["Aspect", "2017", "2020", "2024"])
        row = table.locator("tbody tr", has_text="need help and protection")
        expect(row.locator(".qa-grade")).to_have_text(["Good", "Requires improvement to be good"])
        expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
        assert_fits(page)
        page.wait_for_timeout(1500)
        page.screenshot(path=folder / f"judgements-{width}.png")

        row.locator("a").click()  # the aspect's name leads to its statements and chart
        aspect = page.locator(".qa-aspect", has_text="need help and protection")
        page.wait_for_timeout(1000)
        assert aspect.evaluate(IN_VIEW), "the table's link did not scroll to the aspect"
        expect(aspect.locator(".qa-change")).to_have_text("declined")
        number = (aspect.get_attribute("id") or "").removeprefix("aspect-")
        box = page.locator(f".st-key-judgement-{number}")
        expect(box.get_by_test_id("stVegaLiteChart")).to_be_visible()
        expect(box.locator(".qa-statement-cite").first).to_contain_text("para")
        page.wait_for_timeout(1000)
        page.screenshot(path=folder / f"judgements-aspect-{width}.png")

        box.get_by_role("button", name="View in source").last.click()
        mark = page.frame_locator('iframe[title^="Text of"]').locator("mark#passage")
        expect(mark).to_contain_text("requires improvement", ignore_case=True, timeout=30_000)
        page.wait_for_timeout(1000)
        assert mark.evaluate(IN_VIEW)
        page.screenshot(path=folder / f"judgements-source-{width}.png")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_a_real_reports_passage_on_its_printed_page(reports_server: str, width: int) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    question = "How well are care leavers supported into suitable accommodation?"
    with browser_page(width) as page:
        page.goto(f"{reports_server}/?{urllib.parse.urlencode({'q': question})}")
        expect(page.locator(".qa-hit").first).to_be_visible(timeout=90_000)
        expect(page.locator(".qa-cite .qa-where").first).to_contain_text("p. ")
        page.get_by_role("button", name="View in source").first.click()
        pages = page.frame_locator('iframe[title^="Pages of"]')
        sheet = pages.locator("figure img").first
        expect(sheet).to_be_visible(timeout=60_000)
        assert sheet.evaluate("img => img.complete && img.naturalWidth > 1000"), "a sharp page"
        expect(pages.locator("figcaption").first).to_contain_text("Page ")
        page.wait_for_timeout(1500)  # the frame's script scrolls to the passage
        assert pages.locator("#passage").evaluate(IN_VIEW), "the page is not on the passage"
        text = page.frame_locator('iframe[title^="Text of"]').locator("mark#passage")
        expect(text).to_be_visible()
        assert_fits(page)
        page.screenshot(path=folder / f"pdf-page-{width}.png")


@pytest.mark.parametrize("width", list(WIDTHS))
def test_real_reports_judgements_and_organisation_filter(reports_server: str, width: int) -> None:
    from playwright.sync_api import expect

    folder = screenshot_folder()
    with browser_page(width) as page:
        page.goto(f"{reports_server}/judgements")
        tables = page.locator("table.qa-judgements")
        expect(tables).to_have_count(2, timeout=90_000)  # two councils
        expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
        assert_fits(page)
        page.wait_for_timeout(1500)
        page.screenshot(path=folder / f"judgements-reports-{width}.png")
        if width > 800:  # the sidebar is open beside the page: a choice goes to the address
            first = page.locator(".qa-rec-head .qa-title").first.inner_text()
            page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").first.click()
            page.get_by_role("option", name=first, exact=True).click()
            page.wait_for_url("**organisations=*", timeout=30_000)
            page.keyboard.press("Escape")
            expect(tables).to_have_count(1)
            expect(page.locator(".qa-rec-head .qa-title")).to_have_text([first])
