"""Hostile questions: Searcher.search answers sensibly, or says clearly why not, in bounded time.

Every question gets an Answer (possibly without hits, or flagged low confidence) or a
ValueError with a message, within 5 s, in every mode; never another exception. The embedder
is :class:`qa.index.embedders.HashingEmbedder` behind a check that it is only given valid Unicode text,
as the real model's tokenizer requires (it raises TypeError on a lone surrogate).
``QA_QUESTION_EXAMPLES`` sets how many generated questions the property test tries (default
600); its seed is fixed.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.index.build import build_index
from qa.index.embedders import HashingEmbedder
from qa.search import Searcher
from qa.settings import Settings
from qa.types import Answer, Filters, Mode

from .conftest import TINY_CORPUS, write_corpus

QUESTION_EXAMPLES = int(os.environ.get("QA_QUESTION_EXAMPLES", "600"))
SECONDS = 5.0

OTHER_SCRIPTS = {
    "arabic.txt": "تقرير لجنة التبني\n\nوافقت لجنة التبني على أربعة عشر من المتبنين في عام 2021.\n",
    "chinese.txt": "收养小组年度报告\n\n收养小组今年批准了十四名收养人，并改善了匹配时间。\n",
    "emoji.md": "# Family fun day 2022 🎉\n\nChildren 👶 and foster carers ❤️ met at the park 🌳.\n",
}


class ModelLikeEmbedder(HashingEmbedder):
    """HashingEmbedder that refuses what the real tokenizer refuses: text that is not Unicode."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        for text in texts:
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as error:
                raise TypeError("TextInputSequence must be str") from error
        return super().encode(texts)


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Searcher:
    root = tmp_path_factory.mktemp("questions")
    corpus = write_corpus(root / "corpus", {**TINY_CORPUS, **OTHER_SCRIPTS})
    settings = Settings(corpus=corpus, index=root / "index", chunk_size=300, chunk_overlap=50)
    build_index(settings, HashingEmbedder())
    return Searcher.open(settings, ModelLikeEmbedder())


def check_answer(
    searcher: Searcher, answer: Answer, k: int, filters: Filters | None = None
) -> None:
    """What every answer must be: at most k ranked hits quoting the indexed text exactly."""
    assert isinstance(answer, Answer)
    answer.question.encode("utf-8")  # printable and storable
    assert len(answer.hits) <= k
    assert [hit.rank for hit in answer.hits] == list(range(1, len(answer.hits) + 1))
    assert len({hit.row for hit in answer.hits}) == len(answer.hits)
    scores = [hit.score for hit in answer.hits]
    assert all(math.isfinite(score) for score in scores)
    assert scores == sorted(scores, reverse=True)
    documents = searcher.snapshot.documents
    for hit in answer.hits:
        chunk = hit.chunk
        assert chunk.text == documents[chunk.source].text[chunk.start : chunk.end]
        if filters is not None:
            assert filters.allows(chunk.source, documents[chunk.source].date)
    assert isinstance(answer.low_confidence, bool)
    if answer.best_similarity is not None:
        assert -1.001 <= answer.best_similarity <= 1.001


def ask(
    searcher: Searcher, question: str, mode: str, k: int = 5, **options: object
) -> Answer | None:
    """The answer, or None after a ValueError with a message; fails on anything else or on time."""
    started = time.perf_counter()
    try:
        answer = searcher.search(question, k=k, mode=mode, **options)  # type: ignore[arg-type]
    except ValueError as error:
        assert str(error), "a ValueError must say what is wrong"
        answer = None
    seconds = time.perf_counter() - started
    assert seconds < SECONDS, f"{question[:40]!r} in {mode} mode took {seconds:.1f} s"
    if answer is not None:
        check_answer(searcher, answer, k, options.get("filters"))  # type: ignore[arg-type]
    return answer


HOSTILE = {
    "empty": "",
    "spaces": "   \t  \n ",
    "only punctuation": "?!.,;:…—«»¿¡()[]{}",
    "100,000 characters": "adoption " * 11_111 + "x",
    "100,000 distinct words": " ".join(f"w{n}x" for n in range(14_000))[:100_000],
    "one 100,000-letter word": "a" * 100_000,
    "control characters": "\x01\x02\x03adoption\x7f\x08\x1b[0m\x1bpanel\x9b",
    "NUL bytes": "adoption\x00panel\x00",
    "only NUL": "\x00" * 100,
    "Arabic": "ما هي توصيات لجنة التبني؟",
    "Chinese": "收养小组批准了多少收养人？",
    "emoji": "👶❤️🌳🎉 family fun day?",
    "right-to-left override": "\u202eadoption panel\u202c",
    "zero-width characters": "ado\u200bption\u200d pa\ufeffnel",
    "combining marks": "a\u0301" * 5_000,
    "regex": "(a+)+$",
    "regex 2": "^(([a-z])+.)+[A-Z]([a-z])+$ .* \\d+ [^]",
    "SQL": "'; DROP TABLE chunks; --",
    "format strings": "%s%s%n {0} {question!r} ${HOME} $(id)",
    "markup": "<script>alert('adoption')</script> <b>panel</b>",
    "path": "../../etc/passwd\\..\\windows",
    "numbers": "9" * 10_000 + " 1e308 NaN -inf 0x1F £22.2m 1,000,000%",
    "lone surrogates": "caf\udce9 adoption \ud800panel",
    "non-characters": "\uffff\ufffe\U0010ffff adoption",
}


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize("question", list(HOSTILE.values()), ids=list(HOSTILE))
def test_a_hostile_question_gets_an_answer_or_a_clear_value_error(
    searcher: Searcher, question: str, mode: str
) -> None:
    ask(searcher, question, mode)


def test_what_the_hostile_questions_answer(searcher: Searcher) -> None:
    """Not only no crash: the answers make sense."""
    for mode in Mode:  # nothing to search for: no passage, and no claim of a good match
        empty = searcher.search("", mode=mode)
        assert empty.hits == () and (empty.low_confidence or mode == "lexical")
        assert searcher.search("?!.,;:", mode="lexical").hits == ()
    # Control characters, NUL bytes and markup do not hide the words between them.
    for question in (HOSTILE["control characters"], HOSTILE["NUL bytes"], HOSTILE["markup"]):
        assert searcher.search(question, k=1, mode="lexical").hits[0].chunk.source == "adoption.txt"
    # Other scripts find the documents in them.
    for question, source in (("لجنة التبني", "arabic.txt"), ("收养小组年度报告", "chinese.txt")):
        assert searcher.search(question, k=1, mode="lexical").hits[0].chunk.source == source
    # A question with undecodable bytes still reaches the model as text.
    answer = searcher.search(HOSTILE["lone surrogates"], k=3)
    assert "\ufffd" in answer.question and answer.hits


@pytest.mark.parametrize("k", [0, -1, -100])
def test_k_below_one_is_a_value_error(searcher: Searcher, k: int) -> None:
    with pytest.raises(ValueError, match="k must be at least 1"):
        searcher.search("adoption", k=k)


def test_unknown_mode_is_a_value_error(searcher: Searcher) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        searcher.search("adoption", mode="sql")


_ANY_CHARACTER = st.characters(exclude_categories=())  # surrogates and controls included
_SURROGATE = st.integers(0xD800, 0xDFFF).map(chr)  # from undecodable bytes in a command line
_TRICKY = st.sampled_from(list(" ()+*?$^|\\[]{}.'\";-%_\x00\t\n\r\u200b\u202e£€0123456789"))
_WORD = st.sampled_from(
    ["adoption", "panel", "fostering", "carers", "youth", "crime", "تبني", "收养", "👶", "DROP"]
)
QUESTIONS = st.one_of(
    st.text(_ANY_CHARACTER, max_size=300),
    st.lists(st.one_of(_TRICKY, _ANY_CHARACTER, _SURROGATE), max_size=60).map("".join),
    st.lists(st.one_of(_WORD, st.text(_TRICKY, max_size=3)), max_size=30).map(" ".join),
    st.integers(0, 200_000).map(lambda n: "adoption " * (n // 9)),
)
FILTERS = st.one_of(
    st.none(),
    st.builds(
        Filters,
        sources=st.one_of(
            st.none(),
            st.frozensets(st.sampled_from(sorted({*TINY_CORPUS, *OTHER_SCRIPTS, "missing.txt"}))),
        ),
        year_from=st.one_of(st.none(), st.integers(1900, 2100)),
        year_to=st.one_of(st.none(), st.integers(1900, 2100)),
    ),
)


def test_any_generated_question_in_any_mode(
    searcher: Searcher, ci_log: Callable[[str], None]
) -> None:
    asked: list[str] = []

    @settings(
        max_examples=QUESTION_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        question=QUESTIONS,
        mode=st.sampled_from(list(Mode)),
        k=st.integers(1, 40),
        filters=FILTERS,
    )
    def one(question: str, mode: str, k: int, filters: Filters | None) -> None:
        asked.append(question)
        ask(searcher, question, mode, k=k, filters=filters)

    one()
    longest = max(map(len, asked), default=0)
    ci_log(
        f"hostile questions: {len(asked)} generated questions asked,"
        f" the longest {longest:,} characters"
    )
    assert len(asked) >= min(QUESTION_EXAMPLES, 50)


def test_searcher_fixture_corpus_has_other_scripts(searcher: Searcher) -> None:
    assert set(OTHER_SCRIPTS) <= set(searcher.snapshot.documents)
    assert Path(searcher.settings.corpus).is_dir()
