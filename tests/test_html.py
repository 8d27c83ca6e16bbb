"""The app's HTML and the source view's framed pages, built without Streamlit: every document
text escaped, only our tags as markup.

Titles, passages, recommendations and file names here hold markup a hostile or careless
document could carry; each builder must show it as text.
"""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from qa.citation import Citation, cite
from qa.features.judgements.extract import Form, Grade, Judgement
from qa.features.judgements.extract import Place as JudgementPlace
from qa.features.judgements.timeline import Entry, Row
from qa.features.recommendations import (
    Evidence,
    Link,
    Place,
    Recommendation,
    TrackedRecommendation,
)
from qa.render.html import (
    STATUS_HELP,
    STATUS_LABELS,
    answer_html,
    aspect_html,
    citation_html,
    documents_html,
    grade_badge,
    group_html,
    hit_html,
    judgement_html,
    judgements_table_html,
    recommendation_html,
    report_heading_html,
    results_summary_html,
    statement_citation_html,
    status_badge,
)
from qa.render.source import SOURCE_SCRIPT, PageImage, pdf_page, source_page
from qa.types import (
    Answer,
    AnswerSentence,
    CatalogEntry,
    Chunk,
    DocumentGroup,
    DocumentKind,
    Hit,
    Status,
)
from qa.uploads import DocumentInfo

HOSTILE = "<script>alert(1)</script> **bold** <img src=x onerror=alert(2)> \"quoted\" & 'x'"
OUR_TAGS = r"/?(?:div|span|mark|a|p|q|blockquote|ul|li|strong|table|thead|tbody|tr|th|td)\b"


def only_our_tags(markup: str) -> bool:
    """Whether every '<' in ``markup`` opens or closes a tag this module writes."""
    return re.search(rf"<(?!{OUR_TAGS})", markup) is None


def text_of(markup: str) -> str:
    return html.unescape(re.sub(rf"<{OUR_TAGS}[^>]*>", "", markup))


def make_hit(text: str = HOSTILE, title: str = HOSTILE, rank: int = 1) -> Hit:
    chunk = Chunk(f"notes/{HOSTILE}.txt", 10, 10 + len(text), text, HOSTILE, "2.1")
    return Hit(rank, rank - 1, chunk, title, "2024-12-04", 0.03, 1, None)


def test_citation_names_title_date_and_place_with_a_rank_badge_for_results_only() -> None:
    citation = cite(make_hit(title="Cabinet <b>Report</b>"))
    ranked = citation_html(citation, rank=2)
    assert '<span class="qa-rank">2</span>' in ranked
    assert '<span class="qa-title">Cabinet &lt;b&gt;Report&lt;/b&gt;</span>' in ranked
    assert "4 December 2024 · &lt;script&gt;" in ranked and "· para 2.1</span>" in ranked
    assert "qa-rank" not in citation_html(citation), "a place shown for another reason"
    assert "qa-title" not in citation_html(citation, rank=2, title=False)


def test_a_hostile_passage_title_and_file_name_show_as_text() -> None:
    markup = hit_html(make_hit(), "alert bold")
    assert only_our_tags(markup)
    assert 'data-source="notes/&lt;script&gt;' in markup and "&quot;quoted&quot;" in markup
    assert '<div class="qa-hit" id="passage-1"' in markup and 'data-rank="1"' in markup
    assert "<mark>alert</mark>" in markup and "<mark>bold</mark>" in markup


@given(st.text(max_size=120), st.text(max_size=60), st.text(max_size=30))
def test_any_passage_title_and_question_leave_only_our_tags(
    text: str, title: str, question: str
) -> None:
    markup = hit_html(make_hit(text, title), question)
    assert only_our_tags(markup)
    passage = re.search(r'<div class="qa-passage">(.*)</div></div>$', markup, re.S)
    assert passage is not None and text_of(passage.group(1)) == text.strip()


def test_the_answer_escapes_each_sentence_and_links_its_marker_to_the_passage() -> None:
    sentence = AnswerSentence(HOSTILE, 2, "notes/a.txt", 0, len(HOSTILE))
    markup = answer_html(Answer("q", (make_hit(), make_hit(rank=2)), sentences=(sentence,)))
    assert only_our_tags(markup)
    assert html.escape(HOSTILE) + '&nbsp;<a class="qa-marker" href="#passage-2"' in markup
    assert ">[2]</a>" in markup


def test_the_statement_comes_first_and_links_the_markers_of_passages_shown() -> None:
    statement = f"{HOSTILE}: Good (March 2020) [2] → Inadequate (2024) [1] [7]: declined."
    sentence = AnswerSentence("Quoted.", 1, "notes/a.txt", 0, 7)
    hits = (make_hit(), make_hit(rank=2))
    markup = answer_html(Answer("q", hits, sentences=(sentence,), statement=statement))
    assert only_our_tags(markup)
    shown = re.search(r'<p class="qa-statement">(.*?)</p>', markup)
    assert shown is not None and markup.index("qa-statement") < markup.index("Quoted.")
    assert shown.group(1).startswith(html.escape(HOSTILE) + ": Good (March 2020)&nbsp;<a")
    assert re.findall(r'href="#passage-(\d+)"', shown.group(1)) == ["2", "1"]
    assert "[7]: declined." in shown.group(1), "a marker of no passage shown stays text"
    assert text_of(shown.group(1)).replace("\xa0", " ") == statement


def test_a_statement_without_quoted_sentences_is_still_an_answer() -> None:
    markup = answer_html(Answer("q", (make_hit(),), statement="Sutton: Good (2021) [1]."))
    assert 'class="qa-statement"' in markup and "<p>" not in markup


def page_image(number: int, top: float | None) -> PageImage:
    return PageImage(number, b"\x89PNG fake", 1190, 1684, top)


def test_printed_pages_escape_the_title_and_scroll_to_where_the_passage_starts() -> None:
    page = pdf_page([page_image(7, 0.8), page_image(8, 0.0)], HOSTILE)
    assert page.count("<script") == 1 and f"<script>{SOURCE_SCRIPT}</script>" in page
    assert "default-src 'none'; img-src data:;" in page
    assert html.escape(HOSTILE, quote=True) in page and HOSTILE not in page
    assert page.count("<figure>") == 2 and "Page 7</figcaption>" in page
    assert page.count('id="passage"') == 1, "the script scrolls to the first page's passage"
    assert '<span id="passage" style="top: 80.00%">' in page
    assert page.index('id="passage"') < page.index("Page 8</figcaption>")
    assert 'width="1190" height="1684"' in page, "laid out before the image is decoded"
    assert "data:image/png;base64," in page


def test_printed_pages_without_the_passage_on_them_have_no_anchor() -> None:
    assert 'id="passage"' not in pdf_page([page_image(3, None)], "A report")


def test_headings_of_a_comparison_and_of_a_report_count_what_follows() -> None:
    group = DocumentGroup("a.txt", "Zebra <i>audit</i>", "2020-03", (1, 3))
    assert group_html(group, 2) == (
        '<div class="qa-group"><span class="qa-title">Zebra &lt;i&gt;audit&lt;/i&gt;</span>'
        '<span class="qa-date">March 2020 · 2 passages</span></div>'
    )
    record = Recommendation("a.txt", "Review <i>x</i>", None, "Do it.", "improvement", ())
    heading = report_heading_html(record, 1)
    assert heading.startswith('<div class="qa-group qa-rec-head">')
    assert "Review &lt;i&gt;x&lt;/i&gt;" in heading and "undated · 1 recommendation<" in heading


def test_every_status_has_a_label_and_an_explanation() -> None:
    for status in Status:
        badge = status_badge(status)
        assert f'class="qa-badge qa-badge-{status.replace(" ", "-")}"' in badge
        assert f">{STATUS_LABELS[status]}</span>" in badge
        assert html.escape(STATUS_HELP[status], quote=True) in badge


def test_a_hostile_recommendation_its_links_and_its_progress_show_as_text() -> None:
    place = Place(HOSTILE, "4.1", "2", 0, 10)
    earlier = Recommendation("old.txt", HOSTILE, "2020-03", HOSTILE, "improvement", (place,))
    record = Recommendation(
        "new.txt", "New <b>report</b>", "2024", HOSTILE, "improvement", (place,)
    )
    evidence = Evidence("later.txt", HOSTILE, "2024-12-04", HOSTILE, place, 0.7)
    entry = TrackedRecommendation(record, Status.ADDRESSED, (Link(earlier, 0.9),), (), evidence)
    markup = recommendation_html(entry)
    assert only_our_tags(markup)
    assert markup.startswith('<div class="qa-rec" data-status="addressed">')
    assert "Raised before in the March 2020 report:" in markup
    assert "Progress reported in the 4 December 2024 report:" in markup
    assert markup.count(html.escape(HOSTILE)) >= 3
    assert html.escape(cite(evidence).line()) in markup


def test_the_source_page_escapes_the_document_and_allows_only_its_own_script() -> None:
    text = f"Intro {HOSTILE}\n\nThe passage about adoption.\n\nEnd."
    start = text.index("The passage")
    citation = Citation("a.txt", "A report", None, None, None, start, start + 27)
    page = source_page(text, citation, "adoption")
    assert page.count("<script") == 1 and f"<script>{SOURCE_SCRIPT}</script>" in page
    assert "script-src 'sha256-" in page and "default-src 'none'" in page
    assert html.escape(HOSTILE) in page
    assert '<mark id="passage">The passage about <strong>adoption</strong>.</mark>' in page


def test_the_narrow_document_list_gives_organisation_kind_date_size_and_passages() -> None:
    documents = [
        DocumentInfo(
            HOSTILE, "Zebra <img src=x> audit", "2021-05-01", 45_300, 12,
            "Sutton <b>Council</b>", DocumentKind.INSPECTION_REPORT, "pdf",
        ),
        DocumentInfo("gone.txt", "Gone", None, None, 1, None, DocumentKind.OTHER, "text"),
    ]  # fmt: skip
    markup = documents_html(documents)
    assert only_our_tags(markup)
    assert markup.count("<li>") == 2
    assert "Zebra &lt;img src=x&gt; audit" in markup
    assert "Sutton &lt;b&gt;Council&lt;/b&gt; · inspection report · PDF" in markup
    assert "1 May 2021 · 45 KB · 12 passages" in markup
    assert "organisation not stated · other · Text" in markup
    assert "undated · file missing · 1 passage<" in markup
    assert html.escape(HOSTILE) in markup


def test_the_results_line_escapes_how_the_search_was_narrowed() -> None:
    markup = results_summary_html(1, "Searched by documents: <b>x</b>", 12.4)
    assert markup == (
        '<div class="qa-ranking">1 passage · Searched by documents: &lt;b&gt;x&lt;/b&gt; · 12 ms</div>'
    )


def judgement(aspect: str, grade: Grade, inspection: str | None, source: str) -> Judgement:
    place = JudgementPlace(HOSTILE, "3.5", 2, None, 10, 60, Form.TABLE)
    return Judgement(
        source, f"Report <b>{source}</b>", inspection, aspect, grade, inspection, (place,)
    )


def entry(grade: Grade, inspection: str | None) -> Entry:
    stated = judgement(HOSTILE, grade, inspection, "a.pdf")
    document = CatalogEntry("a.pdf", stated.title, inspection, "hash", "pdf")
    return Entry(grade, inspection, (stated,), (document,))


def test_grades_are_labelled_as_printed_and_coloured_by_their_place_on_the_scale() -> None:
    assert grade_badge(Grade.REQUIRES_IMPROVEMENT) == (
        '<span class="qa-grade qa-grade-requires-improvement">'
        "Requires improvement to be good</span>"
    )
    assert {re.search(r"qa-grade-(\S+)\"", grade_badge(g)).group(1) for g in Grade} == {  # type: ignore[union-attr]
        "outstanding", "good", "requires-improvement", "inadequate",
    }  # fmt: skip


def test_the_judgements_table_has_a_column_per_inspection_year_and_escapes_aspects() -> None:
    rows = [
        Row("Sutton <b>", HOSTILE, (HOSTILE,), (entry(Grade.GOOD, "2020-03"),
            entry(Grade.INADEQUATE, "2024-10-25"))),
        Row("Sutton <b>", "Care <i>leavers</i>", ("Care <i>leavers</i>",),
            (entry(Grade.OUTSTANDING, "2024-10-25"), entry(Grade.GOOD, None))),
    ]  # fmt: skip
    markup = judgements_table_html(rows, ["aspect-0", "aspect-7"])
    assert only_our_tags(markup)
    heads = re.findall(r'<th scope="col">([^<]*)</th>', markup)
    assert heads == ["Aspect", "2020", "2024", "undated"]
    first, second = re.findall(r"<tr><th scope=\"row\">(.*?)</tr>", markup)
    assert first.startswith(f'<a href="#aspect-0">{html.escape(HOSTILE)}</a>')
    cells = re.findall(r"<td>(.*?)</td>", first)
    assert cells[0].endswith('<span class="qa-when">March 2020</span>')
    assert "qa-grade-inadequate" in cells[1]
    assert 'class="qa-none"' in cells[2], "no grade stated: a dash"
    assert "Care &lt;i&gt;leavers&lt;/i&gt;" in second and ">undated</span>" in second


def test_an_aspect_names_its_other_wordings_once_and_its_change() -> None:
    row = Row(
        "Croydon", "Help and protection",
        ("Help and protection", "Children’s <b>help</b>", "Children's <b>help</b>"),
        (entry(Grade.GOOD, "2020"), entry(Grade.REQUIRES_IMPROVEMENT, "2024")),
    )  # fmt: skip
    markup = aspect_html(row, "aspect-3")
    assert only_our_tags(markup)
    assert markup.startswith('<div class="qa-aspect" id="aspect-3">')
    assert markup.count("help&lt;/b&gt;") == 1, "the same wording however its apostrophe is typed"
    assert '<span class="qa-change qa-change-declined">declined</span>' in markup
    once = aspect_html(Row("Croydon", "Help", ("Help",), (entry(Grade.GOOD, "2020"),)), "a")
    assert "qa-change" not in once and "Also worded" not in once


def test_a_judgement_quotes_its_statement_and_cites_each_place_escaped() -> None:
    markup = judgement_html(entry(Grade.GOOD, "2020-03"), HOSTILE)
    assert only_our_tags(markup)
    assert "qa-grade-good" in markup and "March 2020 inspection" in markup
    assert f'<q class="qa-quote">{html.escape(HOSTILE)}</q>' in markup
    stated = judgement(HOSTILE, Grade.GOOD, "2020-03", "a.pdf")
    citation = statement_citation_html(cite(stated))
    assert citation == (
        f'<div class="qa-statement-cite">Report &lt;b&gt;a.pdf&lt;/b&gt;, March 2020,'
        f" {html.escape(HOSTILE)}, para 3.5, p. 2</div>"
    )
