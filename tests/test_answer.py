"""The extractive answer: cited sentences quoted verbatim from the retrieved passages."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from qa.index.embedders import HashingEmbedder
from qa.pipeline.answer import (
    LOW_CONFIDENCE_MESSAGE,
    answer_text,
    candidate_sentences,
    extract_answer,
)
from qa.pipeline.findings import finding_asked, unstated_finding
from qa.search import Searcher
from qa.text import sentence_spans
from qa.types import AnswerSentence, Chunk, Document, Hit

from .conftest import CABINET_2020, CABINET_2024

REPORT = (
    "4 BACKGROUND\n\n"
    "- 4.1 A full inspection of the fostering service took place between 3rd and 14th March "
    "2023. Cllr. Jane Smith thanked the staff.\n"
    "- 4.2 Investment of £22.2m was allocated to the service in 2022/23.\n\n"
    "Judgement\tGrade\n"
    "Overall effectiveness\tGood\n\n"
    "4.3 Inspectors made three recommendations for improvement:\n\n"
    "1. Services to children out of hours.\n"
    "2. Waiting time for early help support.\n"
    "3. Sufficiency of homes for care leavers.\n\n"
    "IMPROVEMENTS SINCE THE LAST INSPECTION\n\n"
    "Children aged 16 and 17 who present as homeless receive a rapid response.\n"
    "◼Services provided to homeless 16-and 17-year-olds.\n"
    "- Overall effectiveness – 'Good'\n"
    "- The experiences and progress of care leavers - 'Good'\n"
)


def document(text: str = REPORT, source: str = "report.txt") -> Document:
    return Document(source, "Fostering Report", "2023-04", "hash", "txt", text=text)


def hit(doc: Document, rank: int, start_phrase: str, end_phrase: str | None = None) -> Hit:
    """A hit on the passage of ``doc`` from ``start_phrase`` to the end of ``end_phrase``."""
    start = doc.text.index(start_phrase)
    end = doc.text.index(end_phrase, start) + len(end_phrase) if end_phrase else len(doc.text)
    chunk = Chunk(doc.source, start, end, doc.text[start:end], "4 BACKGROUND", None)
    return Hit(rank, rank, chunk, doc.title, doc.date, 1.0 / rank, rank, rank)


def units(text: str) -> list[str]:
    return [text[start:end] for start, end in sentence_spans(text)]


def assert_verifiable(
    sentences: tuple[AnswerSentence, ...], hits: list[Hit], documents: dict[str, Document]
) -> None:
    """Every sentence cites a passage that holds it, verbatim, at the offsets it gives."""
    by_rank = {h.rank: h for h in hits}
    for sentence in sentences:
        cited = by_rank[sentence.rank]
        assert sentence.source == cited.chunk.source
        assert documents[sentence.source].text[sentence.start : sentence.end] == sentence.text
        assert cited.chunk.start <= sentence.start < sentence.end <= cited.chunk.end


def test_sentences_are_split_where_a_reader_would() -> None:
    found = units(REPORT)
    assert (
        "A full inspection of the fostering service took place between 3rd and 14th March 2023."
        in found
    )
    assert "Cllr. Jane Smith thanked the staff." in found
    assert "Investment of £22.2m was allocated to the service in 2022/23." in found
    assert "Services provided to homeless 16-and 17-year-olds." in found


def test_bullets_table_rows_and_list_lines_without_punctuation_are_units() -> None:
    found = units(REPORT)
    assert "Overall effectiveness – 'Good'" in found
    assert "The experiences and progress of care leavers - 'Good'" in found
    assert "Overall effectiveness\tGood" in found
    assert "Services to children out of hours." in found


def test_headings_and_short_table_cells_are_not_sentences() -> None:
    found = units(REPORT)
    assert not any(f.isupper() or f.startswith("IMPROVEMENTS") for f in found)
    assert "Judgement\tGrade" not in found
    assert "4 BACKGROUND" not in found


def test_a_line_wrapped_in_mid_sentence_stays_one_sentence() -> None:
    text = (
        "Ofsted completed the seventh and final monitoring visit to the service in October\n"
        "2019 and published its letter in December. The letter is attached.\n"
    )
    assert units(text) == [
        "Ofsted completed the seventh and final monitoring visit to the service in October\n"
        "2019 and published its letter in December.",
        "The letter is attached.",
    ]


def test_every_sentence_is_cited_to_a_passage_that_holds_it_verbatim() -> None:
    doc = document()
    hits = [hit(doc, 1, "- 4.1", "2022/23."), hit(doc, 2, "Children aged 16")]
    sentences = extract_answer(
        "How much investment was allocated to the service?", hits, HashingEmbedder()
    )
    assert sentences
    assert_verifiable(sentences, hits, {doc.source: doc})
    assert sentences[0].text == "Investment of £22.2m was allocated to the service in 2022/23."
    assert sentences[0].rank == 1
    assert not any(re.match(r"[-◼\d]", s.text) for s in sentences)  # no bullets or numbers


def test_the_answer_has_at_most_max_sentences() -> None:
    doc = document()
    hits = [hit(doc, 1, "- 4.1", "2022/23."), hit(doc, 2, "Children aged 16")]
    question = "inspection service homeless care leavers effectiveness"
    assert len(extract_answer(question, hits, HashingEmbedder(), max_sentences=2)) <= 2
    assert len(extract_answer(question, hits, HashingEmbedder(), max_sentences=1)) == 1
    assert extract_answer(question, hits, HashingEmbedder(), max_sentences=0) == ()


def test_the_same_sentence_in_two_passages_is_quoted_once() -> None:
    text = "Investment of £22.2m was allocated to the fostering service this year."
    first, second = document(text, "a.txt"), document(f"{text}\n", "b.txt")
    hits = [hit(first, 1, "Investment"), hit(second, 2, "Investment")]
    sentences = extract_answer("What investment was allocated?", hits, HashingEmbedder())
    assert [s.text for s in sentences] == [text]
    assert sentences[0].rank == 1


def test_a_sentence_introducing_a_list_is_quoted_with_the_list() -> None:
    doc = document()
    hits = [hit(doc, 1, "4.3 Inspectors", "care leavers.\n")]
    sentences = extract_answer(
        "What recommendations for improvement did inspectors make?", hits, HashingEmbedder()
    )
    assert sentences[0].text.startswith("Inspectors made three recommendations for improvement:")
    assert sentences[0].text.endswith("3. Sufficiency of homes for care leavers.")
    assert_verifiable(sentences, hits, {doc.source: doc})


def test_a_lead_in_that_lost_its_colon_is_quoted_with_its_bulleted_list() -> None:
    text = (
        "This outcome supports the council's priority for children and young people to.\n\n"
        "- make the borough safer for young people.\n"
        "- keep vulnerable children safe from harm.\n\n"
        "Staff were asked to.\nReview the plan.\n"
    )
    doc = document(text)
    hits = [hit(doc, 1, "This outcome")]
    sentences = extract_answer("What priorities does the outcome support?", hits, HashingEmbedder())
    assert sentences[0].text.startswith("This outcome supports")
    assert sentences[0].text.endswith("keep vulnerable children safe from harm.")
    # without bullets the next line is a sentence of its own, not a list item
    assert "Review the plan." in [s.text for s in candidate_sentences(hits)]


PEOPLE = (
    "Debbie Jones, Corporate Director of Children's Services, welcomed the inspection.\n\n"
    "Feedback was given to the Children's Services Panel Member on the inspection.\n\n"
    "Lead inspector: Christine Kennet, His Majesty's Inspector\n\n"
    "Inspection dates: 14 to 25 October 2024\n\n"
    "The report was published on the inspectorate's website on 16th March 2020.\n\n"
    "Following the inspection in 2017, monitoring visits continued until 2020.\n\n"
    "About forty social workers joined the service after the inspection.\n\n"
    "Leaders increased the permanent workforce to 80%, up from 62 in 2020.\n"
)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Who was the lead inspector for the inspection?", "Christine Kennet"),
        ("Which Ofsted inspector led the inspection?", "Christine Kennet"),
        ("Who is the corporate director for children's services?", "Debbie Jones"),
        ("On what date was the 2020 inspection report published?", "16th March 2020"),
        ("How many social workers joined after the inspection in 2024?", "About forty"),
        ("What percentage of the workforce was permanent at the inspection?", "80%"),
    ],
)
def test_the_first_sentence_holds_a_finding_of_the_asked_kind(question: str, answer: str) -> None:
    doc = document(PEOPLE)
    sentences = extract_answer(question, [hit(doc, 1, "Debbie")], HashingEmbedder())
    assert answer in sentences[0].text


def test_a_sentence_opening_with_a_pronoun_is_quoted_with_the_sentence_it_refers_to() -> None:
    text = (
        "Personal advisers know their young people well.\n\n"
        "When care leavers are in prison, PAs continue to keep in touch. They visit and work "
        "closely with offender managers and prison staff to plan for the return home.\n\n"
        "Care leavers are supported\n\nThey have access to a health passport.\n"
    )
    doc = document(text)
    hits = [hit(doc, 1, "Personal")]
    sentences = extract_answer(
        "Do they work with offender managers and prison staff?", hits, HashingEmbedder()
    )
    assert sentences[0].text.startswith("When care leavers are in prison, PAs continue")
    assert sentences[0].text.endswith("to plan for the return home.")
    assert_verifiable(sentences, hits, {doc.source: doc})
    # a heading is no antecedent: the sentence after it is quoted alone
    sentences = extract_answer("Is there a health passport?", hits, HashingEmbedder())
    assert sentences[0].text == "They have access to a health passport."


def test_a_section_heading_or_the_documents_title_is_not_quoted() -> None:
    heading = "Inspection of local authority children's services"
    text = f"{heading}\n\nLocal authority children's services have improved since the last inspection.\n"
    title = f"Eastbrook: {heading}"
    doc = Document("report.pdf", title, "2025-03", "hash", "pdf", text=text)
    chunk = Chunk(doc.source, 0, len(text), text, heading, None)
    hits = [Hit(1, 1, chunk, doc.title, doc.date, 1.0, 1, 1)]
    question = "What did the inspection of local authority children's services find?"
    assert [s.text for s in extract_answer(question, hits, HashingEmbedder())] == [
        "Local authority children's services have improved since the last inspection."
    ]


def test_a_sentence_saying_what_its_document_does_is_not_quoted_but_a_list_it_opens_is() -> None:
    text = (
        "The report considered by the Committee provided an update on the actions taken "
        "following the inspection. A new Commissioner had been appointed after the inspection.\n\n"
        "This report provides an update on the improvement programme, including:\n"
        "- caseloads\n- timeliness of visits\n"
    )
    doc = document(text)
    quoted = [s.text for s in candidate_sentences([hit(doc, 1, "The report considered")])]
    assert not any(q.startswith("The report considered") for q in quoted)
    assert "A new Commissioner had been appointed after the inspection." in quoted
    assert any(q.startswith("This report provides an update") and "caseloads" in q for q in quoted)
    question = "What actions were taken following the inspection?"
    answer = extract_answer(question, [hit(doc, 1, "The report considered")], HashingEmbedder())
    assert answer[0].text == "A new Commissioner had been appointed after the inspection."


def test_a_question_asking_for_a_name_is_answered_by_the_sentence_giving_one() -> None:
    text = (
        "The response to young people at risk of exploitation is highly effective in Eastbrook.\n\n"
        "Young people at risk benefit from the multidisciplinary Willow team.\n\n"
        "Exploitation of young people is understood well within the Eastbrook context.\n"
    )
    doc = document(text)
    hits = [hit(doc, 1, "The response")]
    question = "What is the name of Eastbrook's team for young people at risk of exploitation?"
    sentences = extract_answer(question, hits, HashingEmbedder())
    assert "Willow team" in sentences[0].text
    # a question naming the name asks for something else
    assert finding_asked("Which council's children in care council is called Empire?") is None


def test_a_signature_block_is_quoted_as_the_name_beside_its_role() -> None:
    text = (
        "The report was embargoed until publication on the Ofsted website.\n\n"
        "Amina Clarke\nChief Executive\nLondon Borough of Eastbrook\nTown Hall\n\n"
        "The chief executive thanked the staff of children's services for their work.\n"
    )
    doc = document(text)
    hits = [hit(doc, 1, "The report")]
    sentences = extract_answer("Who is Eastbrook's chief executive?", hits, HashingEmbedder())
    assert sentences[0].text == "Amina Clarke\nChief Executive"
    assert unstated_finding("Who is Eastbrook's chief executive?", sentences) is None
    assert_verifiable(sentences, hits, {doc.source: doc})


def test_sides_give_the_best_sentence_of_each_side_in_side_order() -> None:
    old = document("In 2020 the service for homeless teenagers needed improvement.", "old.txt")
    new = document("In 2024 inspectors found the service for homeless teenagers strong.", "new.txt")
    other = document("Inspectors found the adoption service for teenagers strong in 2024.", "x.txt")
    hits = [hit(new, 1, "In"), hit(other, 2, "Inspectors"), hit(old, 3, "In")]
    sentences = extract_answer(
        "How did the service for homeless teenagers change?",
        hits,
        HashingEmbedder(),
        sides=[[3], [1, 2]],
    )
    assert [s.source for s in sentences] == ["old.txt", "new.txt"]
    assert [s.rank for s in sentences] == [3, 1]


def test_the_fuller_wording_of_a_sentence_is_quoted_instead_of_the_shorter() -> None:
    short = "Where areas still need improvement, leaders are aware and have plans to tackle these."
    full = (
        "Where areas still need improvement, leaders are aware and have plans to tackle these, "
        "particularly the out-of-hours service and housing for care leavers."
    )
    summary, report = document(short, "summary.txt"), document(full, "report.txt")
    hits = [hit(summary, 1, "Where"), hit(report, 2, "Where")]
    sentences = extract_answer(
        "Which areas still need improvement that leaders have plans to tackle?",
        hits,
        HashingEmbedder(),
    )
    assert [s.text for s in sentences] == [full]


def test_a_sentence_between_the_compared_periods_that_answers_best_is_quoted_in_date_order() -> (
    None
):
    old = document("In 2017 the service relied on agency staff.", "old.txt")
    middle = document(
        "The number of social care staff grew by around 40 per cent between 2017 and 2020.",
        "middle.txt",
    )
    new = document("In 2024 most teams were stable.", "new.txt")
    hits = [
        replace(hit(old, 1, "In"), date="2017-09"),
        replace(hit(middle, 2, "The"), date="2020-03"),
        replace(hit(new, 3, "In"), date="2024-12"),
    ]
    sentences = extract_answer(
        "By how much has the number of social care staff grown since 2017?",
        hits,
        HashingEmbedder(),
        sides=[[1], [3]],
    )
    assert [s.source for s in sentences] == ["old.txt", "middle.txt", "new.txt"]


def test_a_side_without_sentences_adds_nothing() -> None:
    doc = document()
    hits = [hit(doc, 1, "- 4.1", "2022/23.")]
    sentences = extract_answer("investment", hits, HashingEmbedder(), sides=[[1], [2]])
    assert [s.rank for s in sentences] == [1]


def test_no_passages_no_answer() -> None:
    assert extract_answer("Anything?", [], HashingEmbedder()) == ()
    heading_only = document("IMPROVEMENTS SINCE THE LAST INSPECTION\n")
    assert candidate_sentences([hit(heading_only, 1, "IMPROVEMENTS")]) == []
    assert extract_answer("improvements", [hit(heading_only, 1, "IMP")], HashingEmbedder()) == ()


def test_answer_text_puts_a_citation_marker_after_every_sentence() -> None:
    sentences = (
        AnswerSentence("Sentence one.", 1, "a.txt", 0, 13),
        AnswerSentence("Sentence two.", 3, "b.txt", 5, 18),
    )
    assert answer_text(sentences) == "Sentence one. [1] Sentence two. [3]"
    assert answer_text(()) == ""


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "source", "fact"),
    [
        (
            "On what date did the 2020 re-inspection of Croydon conclude?",
            CABINET_2020,
            "14th February 2020",
        ),
        ("What overall judgement did Ofsted give Croydon in 2024?", CABINET_2024, "Good"),
        ("What share of the social care workforce is permanent now?", CABINET_2024, "80%"),
    ],
)
def test_real_answers_hold_the_fact_and_are_verifiable(
    real_searcher: Searcher,
    question: str,
    source: str,
    fact: str,
) -> None:
    answer = real_searcher.search(question)
    sentences = extract_answer(question, answer.hits, real_searcher.embedder)
    assert not answer.low_confidence
    assert 1 <= len(sentences) <= 3
    held = [s for s in sentences if s.source == source and fact.lower() in s.text.lower()]
    assert held, answer_text(sentences)
    assert_verifiable(sentences, list(answer.hits), real_searcher.snapshot.documents)
    shown = answer_text(sentences)
    assert shown.count("[") == len(sentences)


@pytest.mark.slow
@pytest.mark.parametrize(
    "question",
    [
        "Who wrote Pride and Prejudice?",
        # "rate" is a grade word, but nothing in the question is about a graded service.
        "What is the interest rate set by the central bank?",
    ],
)
def test_an_off_topic_question_is_answered_with_the_low_confidence_message(
    real_searcher: Searcher, question: str
) -> None:
    """Off-topic questions score below 0.16 here. Off-topic questions in a council's own
    words ("How much did the top football clubs pay in transfer fees?", 0.32) score as high
    as answerable paraphrases (0.30) and are answered with the closest sentence (README,
    "What the answer says")."""
    answer = real_searcher.search(question)
    assert answer.low_confidence
    assert answer.statement == "" and answer.sentences == ()
    assert answer.hits  # the closest passages are still listed
    assert LOW_CONFIDENCE_MESSAGE == (
        "The corpus does not seem to answer this question; the closest passages are listed below."
    )


def said(*texts: str) -> tuple[AnswerSentence, ...]:
    return tuple(AnswerSentence(text, 1, "a.txt", 0, len(text)) for text in texts)


@pytest.mark.parametrize(
    ("question", "sentences", "lacking"),
    [
        # a number, but not a count of what was asked
        (
            "How many approved foster carer households does the council have?",
            said("Care leavers can stay with their foster carers beyond 21 years of age."),
            True,
        ),
        (
            "How many approved foster carer households does the council have?",
            said("The council has 212 approved foster carer households."),
            False,
        ),
        # a person, but not in the role asked about
        (
            "Who was the lead inspector for the 2017 inspection?",
            said("Debbie Jones, Corporate Director, welcomed the inspection."),
            True,
        ),
        (
            "Who was the lead inspector for the 2017 inspection?",
            said("Lead inspector: Christine Kennet, His Majesty's Inspector"),
            False,
        ),
        # a sum, but not spent on what was asked; a head count is no sum
        (
            "How much did the council spend on adult social care in 2023/24?",
            said("The council is now spending £10million a year more on children's services."),
            True,
        ),
        (
            "How much did the council spend on agency social workers?",
            said("The council will recruit 15 newly qualified social workers."),
            True,
        ),
        (
            "How much did the council spend on children's services?",
            said("The Children's Services budget was £2.2 million."),
            False,
        ),
        # "appendix 2" and "one of the" count nothing
        (
            "What was the average social worker caseload in November 2019?",
            said("Feedback on one of the largest social work teams is in appendix 2."),
            True,
        ),
        (
            "What was the average social worker caseload in November 2019?",
            said("The average caseload of social workers was 17 children."),
            False,
        ),
        # "who led" an inspection asks for its lead inspector
        (
            "Who led the most recent inspection of Northmoor?",
            said("Inspectors visited Northmoor from 6 to 17 February 2023."),
            True,
        ),
        (
            "Who led the most recent inspection of Northmoor?",
            said("Lead inspector: Amina Clarke, His Majesty's Inspector"),
            False,
        ),
        # answered in words: neither a count nor a role's holder is asked for
        ("How much progress has been made?", said("Progress has been steady."), False),
        ("Who provides the out-of-hours service?", said("Four boroughs provide it."), False),
        ("Who did inspectors give feedback to?", said("Feedback went to the mayor."), False),
    ],
)
def test_an_answer_lacking_the_count_or_the_role_holder_asked_for_says_so(
    question: str, sentences: tuple[AnswerSentence, ...], lacking: bool
) -> None:
    note = unstated_finding(question, sentences)
    assert (note is not None) is lacking
    if note:
        assert note.startswith("No passage found")
        assert " no " not in note  # "No passage found names anyone ...", no double negative
