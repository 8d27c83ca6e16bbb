"""The Streamlit app, driven by streamlit.testing's AppTest against temporary corpora.

The app reads QA_CORPUS and QA_INDEX, so every test points it at a copy under
tmp_path and /work/main/corpus is never touched. One index of three shipped
documents plus a document full of markup is built once with the real model, and
one of the whole shipped corpus plus an undated review with hostile
recommendations for the comparison and recommendation views.
"""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from qa.index.build import build_index
from qa.index.embedders import load_embedder
from qa.index.store import FORMAT_VERSION, IndexStore
from qa.pipeline.answer import LOW_CONFIDENCE_MESSAGE
from qa.settings import Settings
from tests.conftest import (
    CABINET_2020,
    NEWS_2020,
    SCRUTINY_2019,
    SHIPPED_CORPUS,
    TINY_CORPUS,
    rewrite_manifest,
    write_corpus,
)
from tests.test_hostile_files import tuned_docx_bomb

pytestmark = pytest.mark.slow

APP = Path(__file__).resolve().parents[1] / "app.py"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PAGES = {
    "Search": "qa/app/search.py",
    "Recommendations": "qa/app/recommendations.py",
    "Judgements": "qa/app/judgements.py",
    "Documents": "qa/app/documents.py",
}
REPO_ENCODERS = APP.parent / "index" / "encoders"
ASK = "FormSubmitter:ask-Search"
ADD = "FormSubmitter:upload-Add to the corpus"
HOSTILE = "zebra-crossing-audit.txt"
HOSTILE_TEXT = (  # one paragraph, so that one passage holds all of it
    "The zebra crossing audit outside the family centre kept this text, which must show "
    "literally: <script>alert(1)</script> and **bold** # heading and <b>tags</b>.\n"
)
HOSTILE_META = {"title": "Zebra <img src=x onerror=alert(2)> audit", "date": "2021-05-01"}
NOTE = (
    b"Respite Care Review\n\n1. SUMMARY\n\n"
    b"1.1 The respite care service for disabled children supported 240 families in 2023.\n"
)
OFF_TOPIC = "Who won the football world cup, and what was the score in the final?"
REVIEW = "zebra-review.txt"
REVIEW_TEXT = (  # undated, so its items are listed but change no other item's status
    "Zebra <b>crossing</b> review\n\nSummary\n\nThe review looked at the zebra crossings near "
    "schools in the borough and what parents said about them.\n\nWhat needs to improve?\n\n"
    "- The <script>alert(3)</script> zebra crossing **signals** near the primary school.\n"
    "- Lighting of the [crossing](javascript:alert(4)) at night for children walking home.\n"
)
REVIEW_META = {"title": "Zebra <i>crossing</i> review"}
CHANGE = "How did the judgement for help and protection change between 2020 and 2024?"


@dataclass(frozen=True)
class Workspace:
    corpus: Path
    index: Path


def indexed(corpus: Path, index: Path) -> Workspace:
    """``corpus`` indexed with the real model into ``index``."""
    settings = Settings(corpus=corpus, index=index)
    if REPO_ENCODERS.is_dir():
        shutil.copytree(REPO_ENCODERS, settings.index / "encoders")
    build_index(settings, load_embedder(settings.model, settings.batch_size))
    return Workspace(corpus, index)


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """Three shipped documents and one full of markup, indexed once with the real model.

    The ONNX question encoder is copied from the repository's index when there is
    one, which saves exporting it again (about 10 s).
    """
    root = tmp_path_factory.mktemp("app")
    corpus = root / "corpus"
    corpus.mkdir()
    for name in (CABINET_2020, NEWS_2020, SCRUTINY_2019):
        shutil.copyfile(SHIPPED_CORPUS / name, corpus / name)
    write_corpus(corpus, {HOSTILE: HOSTILE_TEXT, HOSTILE + ".meta.json": json.dumps(HOSTILE_META)})
    return indexed(corpus, root / "index")


@pytest.fixture(scope="session")
def whole(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The whole shipped corpus (reports of 2017 to 2024) and the hostile review, indexed once."""
    root = tmp_path_factory.mktemp("whole")
    corpus = root / "corpus"
    shutil.copytree(SHIPPED_CORPUS, corpus)
    write_corpus(corpus, {REVIEW: REVIEW_TEXT, REVIEW + ".meta.json": json.dumps(REVIEW_META)})
    return indexed(corpus, root / "index")


def use(monkeypatch: pytest.MonkeyPatch, workspace: Workspace, **settings: str) -> None:
    monkeypatch.setenv("QA_CORPUS", str(workspace.corpus))
    monkeypatch.setenv("QA_INDEX", str(workspace.index))
    for name, value in settings.items():
        monkeypatch.setenv(f"QA_{name.upper()}", value)


@pytest.fixture
def shared(built: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The session index, read only."""
    use(monkeypatch, built)
    return built


@pytest.fixture
def full(whole: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """The whole-corpus index, read only."""
    use(monkeypatch, whole)
    return whole


@pytest.fixture
def writable(built: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    """A private copy of the session corpus and index, for tests that change them."""
    copy = Workspace(tmp_path / "corpus", tmp_path / "index")
    shutil.copytree(built.corpus, copy.corpus)
    shutil.copytree(built.index, copy.index, ignore=shutil.ignore_patterns("encoders"))
    (copy.index / "encoders").symlink_to(built.index / "encoders")
    use(monkeypatch, copy)
    return copy


def start(page: str | None = None, address: dict[str, str | list[str]] | None = None) -> AppTest:
    """The app as first opened, on the Search page or on ``page``; ``address`` holds the
    query parameters of a shared link."""
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.query_params.update(address or {})
    at.run()
    assert not at.exception, at.exception
    return at if page is None else switch(at, page)


def switch(at: AppTest, page: str) -> AppTest:
    """Open another page, as a click in the navigation does (only that page runs)."""
    at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.text_input(key="q").input(question)
    at.button(key=ASK).click().run()
    assert not at.exception, at.exception
    return at


def passages(at: AppTest) -> list[str]:
    """The HTML of each passage shown, in rank order."""
    return [h.value for h in at.html if 'class="qa-hit"' in h.value]


def sources(at: AppTest) -> list[str]:
    return [re.search(r'data-source="([^"]*)"', p).group(1) for p in passages(at)]  # type: ignore[union-attr]


def answer_block(at: AppTest) -> str:
    """The HTML of the answer block, or "" when there is none."""
    return next((h.value for h in at.html if 'class="qa-answer"' in h.value), "")


def passage_text(markup: str) -> str:
    """The passage of a result's HTML as plain text: highlights removed, entities decoded."""
    passage = re.search(r'<div class="qa-passage">(.*?)</div>', markup, re.S)
    assert passage is not None
    return html.unescape(re.sub(r"</?mark>", "", passage.group(1)))


def state(workspace: Workspace) -> dict[str, bytes]:
    """Every file of the corpus and index (not the shared encoder) with its content."""
    return {
        str(path): path.read_bytes()
        for root in (workspace.corpus, workspace.index)
        for path in sorted(root.rglob("*"))
        if path.is_file() and "encoders" not in path.parts
    }


def test_empty_page_offers_examples_that_search_when_clicked(shared: Workspace) -> None:
    at = start()
    assert not passages(at)
    example = at.button(key="example-0")
    assert example.label == "Which recommendations from the 2020 inspection remained in 2024?"
    example.click().run()
    assert at.text_input(key="q").value == example.label
    assert len(passages(at)) == 5


def test_question_returns_cited_passages(shared: Workspace) -> None:
    at = ask(start(), "What did the 2020 inspection find about services for care leavers?")
    shown = passages(at)
    assert len(shown) == 5
    for markup in shown:
        assert re.search(r'<span class="qa-title">[^<]+</span>', markup)
        assert '<div class="qa-passage">' in markup
    citations = [c.value for c in at.code]
    assert len(citations) == 5
    assert any("23 March 2020" in c and "para" in c for c in citations)
    assert any("<mark>" in markup for markup in shown), "question words are highlighted"
    assert {b.label for b in at.download_button} == {"Markdown", "CSV"}


def test_document_filter_keeps_only_that_document(shared: Workspace) -> None:
    at = start()
    at.multiselect(key="documents").set_value([CABINET_2020]).run()
    ask(at, "What did inspectors say about care leavers and social work practice?")
    assert sources(at) and set(sources(at)) == {CABINET_2020}


def test_year_range_narrows_the_results(shared: Workspace) -> None:
    at = start()
    at.slider(key="years").set_value((2019, 2019)).run()
    ask(at, "What did inspectors say about care leavers and social work practice?")
    assert sources(at) and set(sources(at)) == {SCRUTINY_2019}


def test_a_shared_link_opens_the_same_question_with_the_same_filters(shared: Workspace) -> None:
    # The address holds each setting as the browser writes it: a choice by its label.
    documents = start().multiselect(key="documents").options
    address: dict[str, str | list[str]] = {
        "q": "What did inspectors say about care leavers and social work practice?",
        "documents": [label for label in documents if "23 March 2020" in label],
        "years": ["2020", "2020"],
        "k": "3",
        "mode": "Exact words only",
        "ranking": "true",
    }
    at = start(address=address)
    assert at.text_input(key="q").value == address["q"]
    assert at.multiselect(key="documents").value == [CABINET_2020]
    assert at.slider(key="years").value == (2020, 2020)
    assert (at.slider(key="k").value, at.radio(key="mode").value) == (3, "lexical")
    assert len(passages(at)) == 3 and set(sources(at)) == {CABINET_2020}
    ranks = [c.value for c in at.caption if c.value.startswith("Ranking:")]
    assert len(ranks) == 3 and all("BM25 score" in r for r in ranks)


def test_number_of_passages_follows_the_slider(shared: Workspace) -> None:
    at = start()
    at.slider(key="k").set_value(8).run()
    assert len(passages(ask(at, "care leavers"))) == 8


def test_retrieval_mode_changes_the_reported_ranks(shared: Workspace) -> None:
    at = start()
    at.toggle(key="ranking").set_value(True).run()
    question = "How did the council improve services for children in care?"
    ask(at, question)

    def ranking() -> list[str]:
        return [c.value for c in at.caption if c.value.startswith("Ranking:")]

    hybrid = ranking()
    assert len(hybrid) == 5 and all("word match" in r and "meaning match" in r for r in hybrid)
    at.radio(key="mode").set_value("lexical").run()
    lexical = ranking()
    assert len(lexical) == 5 and all("BM25 score" in r and "meaning" not in r for r in lexical)
    at.radio(key="mode").set_value("dense").run()
    dense = ranking()
    assert len(dense) == 5 and all("similarity" in r and "word match" not in r for r in dense)
    assert [f"meaning match (embeddings) #{i}" in r for i, r in enumerate(dense, 1)] == [True] * 5
    assert hybrid != lexical != dense


def test_off_topic_question_says_nothing_relevant(
    built: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Default threshold (0.35): chosen on eval/questions.jsonl, where answerable questions
    # score at least 0.35 and questions on unrelated topics below 0.15.
    use(monkeypatch, built)
    at = ask(start(), OFF_TOPIC)
    assert any(LOW_CONFIDENCE_MESSAGE in w.value for w in at.warning)
    weak = [e for e in at.expander if e.label.startswith("Closest passages (weak matches")]
    assert len(weak) == 1 and not weak[0].proto.expanded
    assert len([h for h in weak[0].html if 'class="qa-hit"' in h.value]) == 5
    assert not answer_block(at), "no answer is quoted when the corpus does not answer"


def test_on_topic_question_is_not_flagged(
    built: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, built)
    at = ask(start(), "What did inspectors say about care leavers?")
    assert not at.warning and not at.expander
    assert len(passages(at)) == 5
    assert answer_block(at)


def test_markup_in_documents_is_shown_literally(shared: Workspace) -> None:
    at = ask(start(), "zebra crossing audit")
    assert sources(at)[0] == HOSTILE
    first = passages(at)[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in first
    assert "**bold** # heading and &lt;b&gt;tags&lt;/b&gt;" in first
    assert "Zebra &lt;img src=x onerror=alert(2)&gt; audit" in first
    for element in at.html:
        assert "<script" not in element.value and "<img" not in element.value
        assert "<b>" not in element.value

    at.button(key="source-main-1").click().run()
    assert not at.exception
    frames = at.get("iframe")
    assert len(frames) == 1
    page = frames[0].proto.srcdoc
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "**bold** # heading" in page
    assert page.count("<script") == 1, "only the app's own scroll script"
    assert '<mark id="passage">' in page
    assert "script-src 'sha256-" in page


def test_source_view_shows_the_whole_document_with_the_passage_marked(shared: Workspace) -> None:
    at = ask(start(), "What did the 2020 inspection find about services for care leavers?")
    at.button(key="source-main-1").click().run()
    page = at.get("iframe")[0].proto.srcdoc
    marked = re.search(r'<mark id="passage">(.*?)</mark>', page, re.S)
    assert marked is not None
    source = sources(at)[0]
    document = (shared.corpus / source).read_text(encoding="utf-8")
    plain = re.sub(r"</?strong>", "", marked.group(1))
    assert plain.replace("&#x27;", "'").replace("&amp;", "&")[:60] in document
    assert len(page) > len(marked.group(0)) + 2000, "the whole document, not only the passage"
    assert [b.label for b in at.download_button if "original" in b.label]


def test_answer_quotes_passages_with_markers_linking_to_them(full: Workspace) -> None:
    at = ask(start(), "How were homeless 16 and 17 year olds supported in 2024?")
    block = answer_block(at)
    assert "Answer, quoted from the passages below" in block
    quoted = re.findall(
        r'(?:<p>|</a> )(.*?)&nbsp;<a class="qa-marker" href="#passage-(\d+)"[^>]*>\[(\d+)\]</a>',
        block,
    )
    assert quoted, block
    shown = {int(re.search(r'data-rank="(\d+)"', p).group(1)): p for p in passages(at)}  # type: ignore[union-attr]
    for sentence, target, marker in quoted:
        assert target == marker and int(marker) in shown, "each marker links to a passage shown"
        assert f'id="passage-{marker}"' in shown[int(marker)]
        assert html.unescape(sentence) in passage_text(shown[int(marker)]), "quoted verbatim"
    assert all('class="qa-group"' not in h.value for h in at.html), "not a comparison"


def test_comparison_shows_each_document_side_by_side_oldest_first(full: Workspace) -> None:
    at = ask(start(), CHANGE)
    columns = [c for c in at.columns if any('class="qa-group"' in h.value for h in c.html)]
    assert len(columns) >= 2
    headings = [next(h.value for h in c.html if 'class="qa-group"' in h.value) for c in columns]
    years = [int(re.search(r"(\d{4}) · \d+ passage", h).group(1)) for h in headings]  # type: ignore[union-attr]
    assert years == sorted(years) and {2020, 2024} <= set(years)
    for column in columns:
        shown = [h.value for h in column.html if 'class="qa-hit"' in h.value]
        assert shown, "every column holds passages"
        assert len({re.search(r'data-source="([^"]*)"', p).group(1) for p in shown}) == 1  # type: ignore[union-attr]
        assert all('class="qa-title"' not in p for p in shown), "the heading names the document"
    assert len(passages(at)) == 5
    assert answer_block(at)


def test_the_answer_states_the_grades_and_their_change_first_with_markers(
    full: Workspace,
) -> None:
    at = ask(start(), CHANGE)
    block = answer_block(at)
    statement = re.search(r'<p class="qa-statement">(.*?)</p>', block)
    assert statement is not None and block.index("qa-statement") < block.index("<p>")
    said = html.unescape(re.sub(r"<[^>]+>", "", statement.group(1))).replace("\xa0", " ")
    grade = "(?:Outstanding|Good|Requires improvement to be good|Inadequate)"
    change = rf"{grade} \([^)]*2020\) \[\d\] → {grade} \([^)]*2024\) \[\d\]"
    assert re.fullmatch(rf"Croydon: [^:]+: {change}: (?:improved|declined|unchanged)\.", said)
    shown = {re.search(r'data-rank="(\d+)"', p).group(1): p for p in passages(at)}  # type: ignore[union-attr]
    links = re.findall(r'href="#passage-(\d+)"[^>]*>\[(\d+)\]</a>', statement.group(1))
    assert len(links) == 2
    for target, marker in links:
        assert target == marker and marker in shown, "each marker links to a passage shown"
    for _, marker in links:  # the passage a marker names states a grade
        assert re.search(grade, passage_text(shown[marker]), re.IGNORECASE)


def test_comparison_with_a_year_without_documents_says_so(full: Workspace) -> None:
    at = ask(start(), "Compare 2015 and 2024 for care leavers")
    assert any("2015" in note.value for note in at.info)
    assert passages(at), "the side that has passages is still shown"


def test_a_passage_repeated_in_its_document_cites_the_other_place(full: Workspace) -> None:
    at = ask(start(), "Compare 2015 and 2024 for care leavers")
    also = [c for c in at.caption if c.value == "Also in this document:"]
    assert also, "the shipped 2024 report repeats its care leavers paragraphs"
    place = next(b for b in at.button if (b.key or "").startswith("also-"))
    assert "para" in place.label
    place.click().run()
    assert not at.exception
    assert '<mark id="passage">' in at.get("iframe")[0].proto.srcdoc


def test_recommendations_page_lists_each_reports_items_with_a_status(full: Workspace) -> None:
    at = start("Recommendations")
    items = [h.value for h in at.html if 'class="qa-rec"' in h.value]
    statuses = [re.search(r'data-status="([^"]*)"', i).group(1) for i in items]  # type: ignore[union-attr]
    assert {"repeated", "addressed", "new"} <= set(statuses)
    headings = [h.value for h in at.html if 'class="qa-group qa-rec-head"' in h.value]
    dates = [re.search(r'class="qa-date">([^·]*) ·', h).group(1).strip() for h in headings]  # type: ignore[union-attr]
    assert dates[:2] == ["March 2020", "4 December 2024"] and dates[-1] == "undated"
    repeated = [i for i in items if 'data-status="repeated"' in i]
    assert all("Listed again in the 4 December 2024 report" in i for i in repeated[:2])
    # the 2020 care-leavers item is repeated in one of the concerns it lists
    assert any("report (in part: the range of suitable accommodation):" in i for i in repeated), (
        repeated
    )
    addressed = next(i for i in items if 'data-status="addressed"' in i)
    assert "Progress reported in the 4 December 2024 report:" in addressed
    assert "<blockquote>" in addressed and "para" in addressed
    citations = [c.value for c in at.code]
    assert any("4 December 2024" in c and "para 4.16" in c for c in citations)

    at.button(key="rec-0-source-1").click().run()  # the progress reported on the first item
    assert not at.exception
    page = at.get("iframe")[0].proto.srcdoc
    marked = re.search(r'<mark id="passage">(.*?)</mark>', page, re.S)
    assert marked is not None and html.unescape(marked.group(1)) in addressed

    at.pills(key="statuses").set_value(["new"]).run()
    shown = [h.value for h in at.html if 'class="qa-rec"' in h.value]
    assert shown and all('data-status="new"' in i for i in shown)


def test_judgements_page_tables_each_grade_by_inspection_with_its_citation(
    full: Workspace,
) -> None:
    at = start("Judgements")
    assert any('<span class="qa-title">Croydon</span>' in h.value for h in at.html)
    table = next(h.value for h in at.html if 'class="qa-judgements"' in h.value)
    assert re.findall(r'<th scope="col">(\w+)</th>', table)[1:] == ["2017", "2020", "2024"]
    rows = dict(re.findall(r'<th scope="row"><a href="#[^"]+">([^<]+)</a></th>(.*?)</tr>', table))
    help_row = rows["The experiences and progress of children who need help and protection"]
    grades = re.findall(r'<span class="qa-grade [^"]+">([^<]+)</span>', help_row)
    assert grades == ["Good", "Requires improvement to be good"], "2020, then 2024"
    aspect = next(h.value for h in at.html if "help and protection</span><span class" in h.value)
    assert "qa-change-declined" in aspect and "Children in need of help and protection" in aspect
    cited = [h.value for h in at.html if 'class="qa-statement-cite"' in h.value]
    assert len(cited) >= 10
    assert any("23 March 2020" in c and "para 3.4" in c for c in cited)
    assert any("4 December 2024" in c for c in cited)
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 3, "a chart for each aspect graded at several inspections"
    described = [chart.proto.alt for chart in charts]  # the chart in words, for screen readers
    assert any(
        re.fullmatch(r"[^:]+: Good \([^)]*2020\), Requires improvement to be good \([^)]*2024\)", d)
        for d in described
    )

    at.button(key="judgement-0-0-0").click().run()  # the first statement of the first grade
    assert not at.exception
    marked = re.search(r'<mark id="passage">(.*?)</mark>', at.get("iframe")[0].proto.srcdoc, re.S)
    assert marked is not None and "inadequate" in html.unescape(marked.group(1)).lower()


def test_markup_in_recommendations_is_shown_literally(full: Workspace) -> None:
    at = start("Recommendations")
    review = [h.value for h in at.html if 'class="qa-rec" data-status="undated"' in h.value]
    assert len(review) == 2, "the undated review's items are listed, with an Undated badge"
    assert "&lt;script&gt;alert(3)&lt;/script&gt; zebra crossing **signals**" in review[0]
    assert "[crossing](javascript:alert(4))" in review[1]
    assert any("Zebra &lt;i&gt;crossing&lt;/i&gt; review" in h.value for h in at.html)
    for element in at.html:
        assert "<script" not in element.value and "<i>" not in element.value
    assert not any("javascript" in m.value for m in at.markdown)


def test_documents_page_lists_documents_and_index_state(shared: Workspace) -> None:
    at = start("Documents")
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Title", "Organisation", "Kind", "Date", "Format", "Size", "Passages", "File",
    ]  # fmt: skip
    assert set(table["File"]) == {CABINET_2020, NEWS_2020, SCRUTINY_2019, HOSTILE}
    row = table[table["File"] == CABINET_2020].iloc[0]
    assert row["Date"] == "23 March 2020" and row["Size"].endswith("KB") and row["Passages"] > 5
    assert any("Up to date" in s.value for s in at.success)
    assert any("documents, " in m.value and "embedding model" in m.value for m in at.markdown)


def test_an_index_written_in_an_older_format_is_rebuilt_on_opening(writable: Workspace) -> None:
    rewrite_manifest(
        writable.index,
        lambda manifest: manifest.update(format_version=FORMAT_VERSION - 1),
        checksum=False,
    )
    at = start()
    assert not at.error
    assert IndexStore(writable.index).read_manifest()["format_version"] == FORMAT_VERSION  # type: ignore[index]
    ask(at, "What did Ofsted grade Croydon in 2020?")
    assert passages(at)


def test_uploading_a_good_text_file_adds_it_and_makes_it_searchable(writable: Workspace) -> None:
    at = start("Documents")
    at.file_uploader(key="upload-0").upload("Respite care review.txt", NOTE, "text/plain")
    at.button(key=ADD).click().run()
    assert not at.exception and not at.error
    assert any("Added" in s.value for s in at.success)
    assert (writable.corpus / "Respite care review.txt").read_bytes() == NOTE
    assert "Respite care review.txt" in set(at.dataframe[0].value["File"])
    ask(switch(at, "Search"), "respite care for disabled children")
    assert sources(at)[0] == "Respite care review.txt"
    assert any("Respite" in option for option in at.multiselect(key="documents").options)


def test_uploading_a_corrupt_pdf_changes_nothing(writable: Workspace) -> None:
    before = state(writable)
    at = start("Documents")
    at.file_uploader(key="upload-0").upload("broken.pdf", b"%PDF-1.7\nnot a pdf", "application/pdf")
    at.button(key=ADD).click().run()
    assert not at.exception
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "broken.pdf could not be read" in errors[0]
    assert state(writable) == before
    assert "broken.pdf" not in set(at.dataframe[0].value["File"])


def peak_memory_bytes() -> int:
    """This process's peak resident memory (VmHWM)."""
    status = Path("/proc/self/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+)", status)[1]) * 1024  # type: ignore[index]


def test_uploading_a_docx_bomb_says_why_it_is_refused_in_bounded_memory(
    writable: Workspace,
) -> None:
    """Issue 17: a 3 MB DOCX whose XML expands to 390 MB took the server from 2 GB to 8 GB.
    It is read in the reader process and refused while it is inflated, and the app's own
    memory stays where it was."""
    bomb = tuned_docx_bomb(390_000_000)
    before = state(writable)
    at = start("Documents")
    at.file_uploader(key="upload-0").upload("bomb.docx", bomb, DOCX_TYPE)
    peak = peak_memory_bytes()
    at.button(key=ADD).click().run()
    grown = peak_memory_bytes() - peak
    assert not at.exception
    assert [e.value.replace("\\_", "_") for e in at.error] == [  # shown as Markdown
        "bomb.docx could not be read: DOCX holds more than 500,000 elements, the most read"
        " for 2,000,000 characters (setting max_document_chars). Nothing was changed."
    ]
    assert grown < 100_000_000  # the server went from 2 GB to 8 GB
    assert state(writable) == before


def test_uploading_an_existing_name_needs_confirmation(writable: Workspace) -> None:
    at = start("Documents")
    at.file_uploader(key="upload-0").upload(SCRUTINY_2019, NOTE, "text/plain")
    at.button(key=ADD).click().run()
    assert any("already in the corpus" in e.value for e in at.error)
    assert (writable.corpus / SCRUTINY_2019).read_bytes() != NOTE

    at.file_uploader(key="upload-1").upload(SCRUTINY_2019, NOTE, "text/plain")
    at.checkbox(key="replace").check()
    at.button(key=ADD).click().run()
    assert any("Replaced" in s.value for s in at.success)
    assert (writable.corpus / SCRUTINY_2019).read_bytes() == NOTE


def test_changed_corpus_shows_a_banner_and_updates_the_index(writable: Workspace) -> None:
    (writable.corpus / "late-note.txt").write_bytes(NOTE)
    at = start("Documents")
    assert any("The document folder changed" in w.value for w in at.warning)
    at.button(key="update-index").click().run()
    assert not at.exception
    assert not any("The document folder changed" in w.value for w in at.warning)
    assert any("Index ready: 5 documents" in s.value for s in at.success)
    assert "late-note.txt" in set(at.dataframe[0].value["File"])


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    workspace = Workspace(write_corpus(tmp_path / "corpus", dict(TINY_CORPUS)), tmp_path / "index")
    use(monkeypatch, workspace)
    yield workspace


def test_first_start_builds_the_index_with_progress_then_searches(
    tiny: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = start()
    statuses = at.status
    assert len(statuses) == 1 and statuses[0].state == "complete"
    assert re.fullmatch(r"Index ready: 3 documents, \d+ passages", statuses[0].label)
    assert (tiny.index / "CURRENT").is_file()
    ask(at, "foster carers allowance")
    assert sources(at)[0] == "fostering.md"

    # An index built with other settings is refused with a readable message and a rebuild button.
    monkeypatch.setenv("QA_CHUNK_SIZE", "800")
    at = start()
    assert "cannot be used" in at.error[0].value and "chunk" in at.error[0].value
    at.button[0].click().run()
    assert not at.error and not at.exception
    assert any(re.match(r"Index ready: 3 documents", s.value) for s in at.success)
    assert len(passages(ask(at, "foster carers allowance"))) > 0


def test_missing_corpus_is_a_readable_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, Workspace(tmp_path / "no-such-folder", tmp_path / "index"))
    at = start()
    assert len(at.error) == 1
    assert "could not be found" in at.error[0].value and "no-such-folder" in at.error[0].value
    assert at.status[0].state == "error"


def test_bad_setting_is_a_readable_error(
    shared: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_TOP_K", "many")
    at = start()
    assert "A setting is wrong" in at.error[0].value and "QA\\_TOP\\_K" in at.error[0].value


def test_missing_model_is_a_readable_error(
    tiny: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QA_MODEL", str(tiny.corpus.parent / "no-such-model"))
    at = start()
    assert len(at.error) == 1
    assert "embedding model could not be loaded" in at.error[0].value
    assert not (tiny.index / "CURRENT").exists()
