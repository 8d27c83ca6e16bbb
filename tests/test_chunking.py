"""Chunks follow the document's structure and always point back into its text exactly."""

from __future__ import annotations

import itertools
import random
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.chunking import chunk_document
from qa.types import Chunk, Document

from .conftest import CABINET_2020, CABINET_2024, SHIPPED, SHIPPED_CORPUS

SIZES = [(1000, 150), (600, 100), (400, 0), (1500, 300), (200, 50)]


def chunk_containing(chunks: list[Chunk], phrase: str) -> Chunk:
    found = [c for c in chunks if phrase in c.text]
    assert found, f"no chunk contains {phrase!r}"
    return found[0]


def _number(label: str) -> tuple[int, ...]:
    return tuple(int(part) for part in label.strip().rstrip(".").split("."))


def label_includes(label: str | None, number: str) -> bool:
    """Whether a paragraph label ("4.16", "12.", or a range "3.4–3.6") includes ``number``."""
    if label is None:
        return False
    first, _, last = label.partition("–")
    return _number(first) <= _number(number) <= _number(last or first)


def test_label_includes() -> None:
    assert label_includes("3.4–3.6", "3.5")
    assert label_includes("4.16", "4.16")
    assert label_includes("12.–13.", "12.")
    assert not label_includes("3.4–3.6", "3.7")
    assert not label_includes("4.12–4.14", "4.16")
    assert not label_includes(None, "1.1")


def assert_offsets_reproduce_text(document: Document, chunks: list[Chunk]) -> None:
    for chunk in chunks:
        assert chunk.source == document.source
        assert 0 <= chunk.start < chunk.end <= len(document.text)
        assert chunk.text == document.text[chunk.start : chunk.end]


def assert_covers_every_character(document: Document, chunks: list[Chunk]) -> None:
    covered = bytearray(len(document.text))
    for chunk in chunks:
        covered[chunk.start : chunk.end] = b"\x01" * (chunk.end - chunk.start)
    missing = [i for i, ch in enumerate(document.text) if not ch.isspace() and not covered[i]]
    assert not missing, f"text not in any chunk: {document.text[missing[0] : missing[0] + 40]!r}"


# --- shipped corpus ------------------------------------------------------------------------------


@pytest.mark.parametrize(("size", "overlap"), SIZES)
@pytest.mark.parametrize("source", SHIPPED)
def test_shipped_chunks_reproduce_text_and_cover_it(
    shipped_documents: dict[str, Document], source: str, size: int, overlap: int
) -> None:
    document = shipped_documents[source]
    chunks = chunk_document(document, size, overlap)
    assert chunks
    assert_offsets_reproduce_text(document, chunks)
    assert_covers_every_character(document, chunks)
    assert all(len(c.text) <= size for c in chunks)
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)


def test_four_recommendations_stay_with_their_intro(shipped_documents: dict[str, Document]) -> None:
    chunks = chunk_document(shipped_documents[CABINET_2024])
    chunk = chunk_containing(chunks, "Inspectors made four recommendations for improvement")
    assert label_includes(chunk.paragraph, "4.16")
    assert chunk.section == "AREAS FOR IMPROVEMENT"
    for item in (
        "1. Services to children out of hours.",
        "2. Consistency of practitioners for children and families.",
        "3. Sufficiency of accommodation for children in care and care leavers.",
        "4. Waiting time for early help support.",
    ):
        assert item in chunk.text


def test_inspection_paragraph_12_has_number_and_judgement_heading(
    shipped_documents: dict[str, Document],
) -> None:
    chunks = chunk_document(shipped_documents[CABINET_2024])
    chunk = chunk_containing(
        chunks, "When concerns increase for children, plans are appropriately escalated"
    )
    assert label_includes(chunk.paragraph, "12.")
    assert chunk.section is not None
    assert chunk.section.startswith(
        "The experiences and progress of children who need help and protection"
    )
    # The whole paragraph, up to its last sentence, is in this one chunk.
    assert "escalation to legal proceedings follows promptly." in chunk.text


def test_gradings_paragraph_keeps_its_list(shipped_documents: dict[str, Document]) -> None:
    chunks = chunk_document(shipped_documents[CABINET_2020])
    chunk = chunk_containing(chunks, "The Ofsted gradings for Early Help")
    assert label_includes(chunk.paragraph, "3.5")
    assert chunk.section == "3. DETAIL"
    assert (
        "Children looked after and care leavers – 'Requires improvement to be good'" in chunk.text
    )
    assert "Overall effectiveness – 'Good'" in chunk.text


def test_chunks_never_mix_sections(shipped_documents: dict[str, Document]) -> None:
    document = shipped_documents[CABINET_2024]
    chunks = chunk_document(document)
    improvement = chunk_containing(chunks, "Inspectors made four recommendations")
    leaders = chunk_containing(chunks, "A number of strengths were identified in this domain")
    assert improvement.section != leaders.section
    assert "4.15" not in improvement.text
    assert "4.16" not in leaders.text


# A numbered paragraph starts a line: "- 3.5 The ...", "4.16 Inspectors ...", "12. When ...".
_PARAGRAPH_START = re.compile(
    r"^(?:[ \t]*- )?(?:\d{1,2}(?:\.\d{1,2}){1,3}|\d{1,2}\.)[ \t]+(?=.*[a-z])", re.M
)
_CONTINUES = re.compile(r"^\s*(?:[-•◼]|[a-z])")  # a bullet of its list, or a sentence running on


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of every numbered paragraph with its bullets and run-on lines.

    It ends at the next line that starts a paragraph or heading (a new number, or a
    capital letter after a blank line); a lower-case line after a page break continues it.
    """
    spans = []
    for match in _PARAGRAPH_START.finditer(text):
        end = text.find("\n", match.start())
        end = len(text) if end < 0 else end
        position = end
        while position < len(text):
            following = text.find("\n", position + 1)
            following = len(text) if following < 0 else following
            line = text[position + 1 : following]
            after_blank = (
                not text[end:position].strip("\n") and text[end : position + 1].count("\n") > 1
            )
            if line.strip():
                if _PARAGRAPH_START.match(line) or re.fullmatch(r"\s*[\d.]+\s*", line):
                    break
                if after_blank and not _CONTINUES.match(line):
                    break
                if not _CONTINUES.match(line) and line.strip().isupper():
                    break
                end = following
            position = following
        spans.append((match.start(), end))
    return spans


@pytest.mark.parametrize(("size", "overlap"), SIZES)
@pytest.mark.parametrize("source", SHIPPED)
def test_no_numbered_paragraph_is_cut_when_it_fits(
    shipped_documents: dict[str, Document], source: str, size: int, overlap: int
) -> None:
    document = shipped_documents[source]
    chunks = chunk_document(document, size, overlap)
    for start, end in paragraph_spans(document.text):
        paragraph = document.text[start:end].strip()
        if len(paragraph) > size:
            continue
        start = document.text.index(paragraph, start)
        assert any(c.start <= start and start + len(paragraph) <= c.end for c in chunks), (
            f"paragraph cut in half at size {size}: {paragraph[:80]!r}"
        )


def test_paragraph_spans_helper_finds_the_paragraphs(
    shipped_documents: dict[str, Document],
) -> None:
    text = shipped_documents[CABINET_2020].text
    spans = {text[s:e].strip()[:6]: text[s:e] for s, e in paragraph_spans(text)}
    assert "- 3.5 " in spans
    assert spans["- 3.5 "].rstrip().endswith("Overall effectiveness – 'Good'")
    assert "- 3.6 " not in spans["- 3.5 "]
    # Paragraph 5 of the 2024 report runs on over a page break ("...a need to\n\nfurther ...").
    text_2024 = shipped_documents[CABINET_2024].text
    spans_2024 = {text_2024[s:e].strip()[:4]: text_2024[s:e] for s, e in paragraph_spans(text_2024)}
    assert "through a weekly review meeting." in spans_2024["5. T"]
    assert "6. Social workers" not in spans_2024["5. T"]


# --- small documents -----------------------------------------------------------------------------


def make_document(text: str) -> Document:
    return Document(
        source="generated.txt", text=text, title="t", date=None, content_hash="h", format="text"
    )


def test_each_chunk_cites_the_page_it_starts_on_and_the_page_it_ends_on() -> None:
    filler = "The service was reviewed by the panel in detail. " * 3
    pages = [
        f"1.1 {filler}\n\n1.2 The panel approved fourteen adopters and",
        f" matched nine children. {filler}\n\n",
        f"1.3 Training is offered every month. {filler}\n",
    ]
    starts = tuple(sum(len(p) for p in pages[:i]) for i in range(len(pages)))
    document = Document("report.pdf", "t", None, "h", "pdf", text="".join(pages), pages=starts)
    chunks = chunk_document(document, size=250, overlap=0)
    assert [(c.paragraph, c.page, c.page_end) for c in chunks] == [
        ("1.1", 1, None),
        ("1.2", 1, 2),
        ("1.3", 3, None),
    ]


def test_a_text_file_has_no_pages() -> None:
    chunks = chunk_document(make_document("1.1 Plain text has no pages at all, only lines.\n"))
    assert [(c.page, c.page_end) for c in chunks] == [(None, None)]


def test_long_paragraph_is_split_at_sentence_ends_with_overlap() -> None:
    sentences = [f"Sentence number {i} describes the service in some detail." for i in range(40)]
    document = make_document("4.1 " + " ".join(sentences) + "\n")
    chunks = chunk_document(document, size=500, overlap=120)
    assert len(chunks) > 2
    assert_offsets_reproduce_text(document, chunks)
    for chunk in chunks:
        assert len(chunk.text) <= 500
        assert chunk.paragraph == "4.1"
        assert chunk.text.endswith(".")
    for first, second in itertools.pairwise(chunks):
        assert second.start < first.end, "consecutive pieces of one paragraph overlap"
        assert second.text.startswith(("Sentence", "4.1")), "a piece starts at a sentence start"


def test_long_list_is_split_between_items() -> None:
    items = [f"- Item {i} names one strength the inspectors saw in the service" for i in range(30)]
    document = make_document(
        "4.15 A number of strengths were identified:\n" + "\n".join(items) + "\n"
    )
    chunks = chunk_document(document, size=400, overlap=100)
    assert len(chunks) > 3
    for chunk in chunks:
        assert chunk.text.endswith("in the service"), (
            f"piece ends inside an item: {chunk.text[-30:]!r}"
        )
        assert chunk.text.startswith(("4.15", "- Item")), (
            f"piece starts inside an item: {chunk.text[:30]!r}"
        )


def test_paragraph_fitting_the_size_is_not_split_by_its_heading() -> None:
    # Heading + paragraph together are longer than the chunk size, the paragraph alone is not.
    paragraph = "4.1 " + " ".join(
        f"Sentence number {i} describes the service in some detail." for i in range(15)
    )
    document = make_document(
        "SECTION HEADING\n\n" + paragraph + "\n\n4.2 A short paragraph follows.\n"
    )
    size = len(paragraph) + 10
    chunks = chunk_document(document, size=size, overlap=100)
    holder = chunk_containing(chunks, "Sentence number 0 ")
    assert paragraph in holder.text
    assert all(c.section == "SECTION HEADING" for c in chunks)
    assert_covers_every_character(document, chunks)


def test_heading_and_paragraph_labels_on_a_small_report() -> None:
    text = (
        "1. SUMMARY\n\n"
        "1.1 The panel met eleven times.\n\n"
        "What needs to improve?\n\n"
        "- Services to children out of hours.\n"
        "- Waiting time for early help support.\n\n"
        "2. DETAIL\n\n"
        "2.1 Inspectors found the following:\n"
        " - first point;\n"
        " - second point.\n"
        "2.2 Another paragraph.\n"
    )
    chunks = chunk_document(make_document(text), size=1000, overlap=100)
    first = chunk_containing(chunks, "The panel met")
    assert (first.section, first.paragraph) == ("1. SUMMARY", "1.1")
    improve = chunk_containing(chunks, "Services to children out of hours.")
    assert improve.section == "What needs to improve?"
    assert "1.1" not in improve.text
    detail = chunk_containing(chunks, "Inspectors found")
    assert detail.section == "2. DETAIL"
    assert detail.paragraph == "2.1–2.2"
    assert "second point" in detail.text


# --- properties over generated documents ---------------------------------------------------------

_WORDS = [
    "the",
    "council",
    "children",
    "care",
    "leavers",
    "services",
    "Ofsted",
    "inspection",
    "plans",
    "good",
    "improvement",
    "social",
    "workers",
    "early",
    "help",
    "protection",
    "adoption",
    "£22.2m",
    "80%",
    "16-and",
    "17-year-olds",
    "Croydon’s",
    "a",
    "of",
    "to",
    "in",
    "and",
    "requires",
]


@st.composite
def sentences(draw: st.DrawFn, max_sentences: int = 6) -> str:
    """Sentences of 2-25 words; the words come from a seeded generator, which keeps
    generation fast (one draw per sentence rather than one per word)."""
    parts = []
    for _ in range(draw(st.integers(1, max_sentences))):
        rng = random.Random(draw(st.integers(0, 2**32)))
        words = rng.choices(_WORDS, k=draw(st.integers(2, 25)))
        parts.append(
            words[0].capitalize()
            + " "
            + " ".join(words[1:])
            + draw(st.sampled_from([".", ".", ";", ":"]))
        )
    return " ".join(parts)


@st.composite
def structured_documents(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A report of headings, numbered paragraphs with bullets, and plain paragraphs.

    Also returns the span of every numbered paragraph (with its bullets), which the
    chunker must keep whole when it fits in a chunk.
    """
    pieces: list[str] = []
    paragraphs: list[tuple[int, int]] = []
    offset = 0

    def add(piece: str, paragraph: bool = False) -> None:
        nonlocal offset
        if paragraph:
            paragraphs.append((offset, offset + len(piece)))
        pieces.append(piece)
        offset += len(piece)

    for section in range(1, draw(st.integers(1, 4)) + 1):
        if pieces and not pieces[-1].endswith("\n\n"):
            add("\n")  # a heading stands apart: without a blank line it reads as a wrapped line
        heading = draw(
            st.sampled_from(
                [
                    f"{section}. DETAIL",
                    "AREAS FOR IMPROVEMENT",
                    "# Background",
                    "What needs to improve?",
                ]
            )
        )
        add(heading + "\n\n")
        for number in range(1, draw(st.integers(1, 6)) + 1):
            style = draw(st.sampled_from(["dotted", "dashed", "top", "plain"]))
            body = draw(sentences()).rstrip(".;:") + "."
            if (
                style == "plain"
            ):  # stands apart too: after a single newline it continues the line above
                if not pieces[-1].endswith("\n\n"):
                    add("\n")
                add(body + "\n\n")
                continue
            label = {
                "dotted": f"{section}.{number} ",
                "dashed": f"- {section}.{number} ",
                "top": f"{number}. ",
            }[style]
            paragraph = label + body
            bullets = draw(st.lists(sentences(1), max_size=4))
            if bullets:
                # Items end with a full stop: after "- an item" with no stop, a line
                # "3.5 ..." could as well be the item running on, and is read so.
                paragraph = (
                    paragraph[:-1] + ":" + "".join(f"\n - {b.rstrip('.;:')}." for b in bullets)
                )
            add(paragraph, paragraph=True)
            add(draw(st.sampled_from(["\n", "\n\n", "\n\n\n"])))
    return "".join(pieces), paragraphs


free_text = st.lists(
    st.one_of(
        st.text(st.characters(max_codepoint=0x2FFF), max_size=80),
        st.text(alphabet=" \t\n.:;-•◼abcDEF0123456789£–’", max_size=80),
        sentences(),
        st.sampled_from(
            ["\n", "\n\n", "- 3.5 ", "12. ", "\t", " - ", "◼", "HEADING IN CAPS\n", "§  ", "1.\n"]
        ),
    ),
    max_size=40,
).map("".join)


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=st.one_of(free_text, structured_documents().map(lambda pair: pair[0])),
    sizes=st.sampled_from(SIZES),
)
def test_chunks_reproduce_and_cover_any_text(text: str, sizes: tuple[int, int]) -> None:
    size, overlap = sizes
    document = make_document(text)
    chunks = chunk_document(document, size, overlap)
    assert_offsets_reproduce_text(document, chunks)
    assert_covers_every_character(document, chunks)
    for chunk in chunks:
        assert len(chunk.text) <= size
        assert chunk.text == chunk.text.strip(), "chunks start and end on text, not whitespace"
    assert [c.start for c in chunks] == sorted(c.start for c in chunks)
    if not text.strip():
        assert chunks == []


@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
@given(generated=structured_documents(), sizes=st.sampled_from(SIZES))
def test_numbered_paragraphs_that_fit_are_never_cut(
    generated: tuple[str, list[tuple[int, int]]], sizes: tuple[int, int]
) -> None:
    text, paragraphs = generated
    size, overlap = sizes
    chunks = chunk_document(make_document(text), size, overlap)
    for start, end in paragraphs:
        if end - start > size:
            continue
        assert any(c.start <= start and end <= c.end for c in chunks), (
            f"paragraph cut at size {size}: {text[start:end][:80]!r}"
        )


def test_headings_the_layout_marked_become_sections_and_table_rows_stay_whole() -> None:
    text = (
        "The experiences and progress of children in care: good\n\n"
        "1. Children live in stable homes with carers who know them well and help them.\n\n"
        "Judgement | Grade\n"
        "The experiences and progress of children in care | Good\n"
        "Overall effectiveness | Good\n"
    )
    heading_end = text.index("\n")
    document = Document(
        "report.pdf", "t", None, "h", "pdf", text=text, pages=(0,), headings=((0, heading_end),)
    )
    chunks = chunk_document(document, size=1000, overlap=0)
    assert {c.section for c in chunks} == {"The experiences and progress of children in care: good"}
    table = next(c for c in chunks if "Judgement | Grade" in c.text)
    assert (
        "The experiences and progress of children in care | Good\nOverall effectiveness | Good"
        in (table.text)
    )


def test_every_passage_of_a_shipped_text_file_is_the_files_own_text_at_its_offsets(
    shipped_documents: dict[str, Document],
) -> None:
    """A reader who opens the .txt file and counts characters finds the passage there."""
    for source, document in shipped_documents.items():
        file_text = (SHIPPED_CORPUS / source).read_bytes().decode("utf-8")
        chunks = chunk_document(document)
        assert chunks
        for chunk in chunks:
            assert file_text[chunk.start : chunk.end] == chunk.text, (source, chunk.start)
