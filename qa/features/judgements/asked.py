"""What a question asks of the grades: whether it is about grades at all, about a change,
about every aspect or the lowest/highest one, and which graded aspect it names.

Read from the question's words alone (and, for the aspect, the wordings the corpus grades),
apart from the stage that answers from the records (:mod:`qa.features.judgements.stage`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence

from qa.features.judgements.extract import GRADE_WORDS, Grade, read_grade
from qa.features.judgements.timeline import Row
from qa.index.lexical import tokenize
from qa.pipeline.timeframe import LATEST

_CUE = re.compile(
    r"\b(?:judg(?:e|ed|ement|ements|ment|ments)|grade[ds]?|grading|rate[ds]?|rating|ratings"
    r"|verdict|outstanding|inadequate|requires\s+improvement|how\s+good|overall\s+effectiveness)\b",
    re.IGNORECASE,
)
_CHANGE = re.compile(
    r"\b(?:chang\w*|improv\w*|declin\w*|worse\w*|better|compar\w*|over\s+time|since|trend\w*"
    r"|go\s+(?:up|down)|went\s+(?:up|down)|fell|rose|before|previous|earlier|same|still"
    r"|keep|keeps|kept|retain\w*|maintain\w*)\b"
    r"|^\W*when\b",
    re.IGNORECASE,
)
# A question about an aspect's change without a grade word says it with a verb ("did it
# improve", "has it declined"); "flagged for improvement" and "what changes followed" are
# about a list, not a grade.
_CHANGE_VERB = re.compile(
    r"\b(?:improv(?:e|ed|es|ing)|chang(?:ed|ing)|declin(?:e|ed|es|ing)|worsen\w*"
    r"|(?:got|get|gotten|become|became)\s+(?:better|worse)|kept|keep|retain\w*|maintain\w*)\b",
    re.IGNORECASE,
)
# A grade word in a clause that only sets the scene ("How overloaded were practitioners
# before the borough was judged failing?", "Once the borough climbs off the bottom grade,
# does ...?") does not make a question about grades: the clause after one of these words,
# or a fronted one up to its comma, is left out when looking for a grade word.
_SUBORDINATE = re.compile(
    r"\b(?:before|after|once|until|since|following|when|whereas|because|in\s+order\s+to"
    r"|so\s+as\s+to|so\s+that)\b",
    re.IGNORECASE,
)
_FRONTED = re.compile(
    r"^\W*(?:once|after|before|if|since|following|until|while)\b[^,?]*,", re.IGNORECASE
)
_LOWEST_FIRST = re.compile(r"\b(?:lowest|worst|weakest)\b", re.IGNORECASE)
_HIGHEST_FIRST = re.compile(r"\b(?:highest|best|strongest)\b", re.IGNORECASE)
# How well a question names an aspect: the F1 of the aspect words they share, each weighted
# by how few of the corpus's wordings use it (so "the experiences and progress of", in most
# wordings, counts little; "help", "protection", "leavers" count most). A question naming
# an aspect ("help and protection", "care leavers") scores 0.38 or more with its wording (0.38
# and 0.39 where the question also says "judged" or "judgement", which some prose wordings
# use); one naming none ("What did Ofsted judge Croydon in 2020?") shares no aspect word
# (measured on the judgement questions of both reference sets).
ASPECT_COVERAGE = 0.35
# A question word and a wording word one of whose stems begins the other from this length
# on are one word ("leadership", "leaders"; "inspected", "inspection").
SHARED_STEM = 5
_EVERY_ASPECT = re.compile(
    r"\b(?:judgement|judgment|inspection)\s+areas?\b|\b(?:each|every|all)\s+(?:the\s+)?"
    r"(?:areas?|aspects?|judgements?|judgments?|grades?)\b|\b(?:lowest|highest|worst|best)\b",
    re.IGNORECASE,
)

# "Which councils were judged outstanding?", "Which local authority went from inadequate to
# good?": the organisations are the answer, found by the grades the question names.
_WHICH_ORGANISATION = re.compile(
    r"\bwhich\s+(?:(?:local\s+)?(?:councils?|authorit(?:y|ies))|trusts?|boroughs?|count(?:y|ies)"
    r"|organisations?|organizations?)\b",
    re.IGNORECASE,
)
_GRADE_NAMED = re.compile(rf"(?<!how )\b(?:{GRADE_WORDS})\b", re.IGNORECASE)


def main_clause(question: str) -> str:
    """``question`` without a fronted subordinate clause and from the first later one on."""
    question = _FRONTED.sub("", question, count=1)
    later = next(
        (
            m
            for m in _SUBORDINATE.finditer(question)
            if m.start() > 0 and question[: m.start()].strip()
        ),
        None,
    )
    return question[: later.start()] if later else question


# "How good is X?" asks for a grade only when X is something graded: "How good is the service
# for homeless 16 and 17 year olds these days?" asks about a service no judgement grades.
_HOW_GOOD = re.compile(
    r"\bhow\s+good\s+(?:(?:is|are|was|were)\s+(?P<subject>[^?]+)"
    r"|(?P<embedded>(?:the|its|their|his|her)\s+[^?,]+?)\s+(?:is|are|was|were)\b)",
    re.I,
)
# "judge how good the casework is": the verb introducing "how good" is no second grade word.
_JUDGE_HOW_GOOD = re.compile(r"\bjudg\w*\s+(?=how\s+good\b)", re.I)


def how_good_subject(question: str) -> str | None:
    """What "How good is X?" (or "... how good X is") asks about, when "how good" is the
    question's only grade word, without the words for "now" ("these days")."""
    main = _JUDGE_HOW_GOOD.sub("", main_clause(question))
    match = _HOW_GOOD.search(main)
    if match is None or len(_CUE.findall(main)) != 1:
        return None
    return LATEST.sub(" ", match["subject"] or match["embedded"])


def names_only_graded(subject: str, rows: Sequence[Row]) -> bool:
    """Whether every word of ``subject`` is a word of the rows' wordings or organisations
    ("Croydon's children's services", "help and protection in Bradford")."""
    names = {t for row in rows if row.organisation for t in tokenize(row.organisation)}
    vocabulary = {t for row in rows for w in row.wordings for t in tokenize(w)} | names
    return all(t in vocabulary for t in _in_wordings(tokenize(subject), vocabulary))


def asks_about_grades(question: str) -> bool:
    """Whether the question's main clause has a grade word ("judged", "rated", "inadequate")."""
    return bool(_CUE.search(main_clause(question)))


def asks_about_change(question: str) -> bool:
    """Whether the question asks how a grade changed or compares it with another time."""
    return bool(_CHANGE.search(question))


# "Is it still rated inadequate?", "no longer good": whether a grade holds now.
_PERSISTS = re.compile(r"\b(?:still|any\s+longer|no\s+longer|anymore)\b", re.IGNORECASE)


def asks_if_it_persists(question: str) -> bool:
    """Whether the question asks if a grade still holds: the latest inspection answers it,
    the earlier ones are its history."""
    return bool(_PERSISTS.search(question))


def says_change_verb(question: str) -> bool:
    """Whether the question asks about a change with a verb ("did it improve")."""
    return bool(_CHANGE_VERB.search(question))


def asks_for_every_aspect(question: str) -> bool:
    """Whether the question asks about every graded aspect ("each judgement area")."""
    return bool(_EVERY_ASPECT.search(question))


def asks_which_organisation(question: str) -> bool:
    """Whether the question asks which organisations ("which councils ...")."""
    return bool(_WHICH_ORGANISATION.search(question))


def grades_named(question: str) -> tuple[Grade, ...]:
    """The grades the question names, in its order ("from inadequate to good"); "how good"
    names none."""
    return tuple(g for m in _GRADE_NAMED.finditer(question) if (g := read_grade(m[0])))


def grade_order(question: str) -> int | None:
    """1 when the question asks for the lowest grade first, -1 the highest, else ``None``."""
    if _LOWEST_FIRST.search(question):
        return 1
    return -1 if _HIGHEST_FIRST.search(question) else None


# A phrase naming the service as a whole ("children's social care", "services for children")
# names no aspect, though its words are in aspects' wordings ("children in care").
_WHOLE_SERVICE = re.compile(
    r"\b(?:children|young\s+people)['’]?s\s+(?:social\s+care\s+)?services?\b"
    r"|\bchildren['’]?s\s+social\s+care\b|\bsocial\s+care\s+services?\b"
    r"|\bservices\s+for\s+children(?:\s+and\s+(?:young\s+people|families))?\b",
    re.IGNORECASE,
)


def aspect_words(question: str) -> str:
    """``question`` without the phrases naming the service as a whole."""
    return _WHOLE_SERVICE.sub(" ", question)


def aspect_coverage(rows: Sequence[Row], question: str) -> list[float]:
    """For each row, the best F1 between the question's aspect words and one of the row's
    wordings, each word weighted by the log of how rare it is among the wordings. The
    question's aspect words are its words that some wording uses, organisation names aside
    (a prose wording "Croydon children's services" must not match every Croydon question)."""
    names = {t for row in rows if row.organisation for t in tokenize(row.organisation)}
    wordings = [[frozenset(tokenize(w)) - names for w in row.wordings] for row in rows]
    unique = {words for row in wordings for words in row}
    frequency = Counter(term for words in unique for term in words)
    weight = {term: math.log(1 + len(unique) / count) for term, count in frequency.items()}
    asked = (
        frozenset(_in_wordings(tokenize(aspect_words(question)), frequency.keys()))
        & frequency.keys()
    )
    wanted = sum(weight[t] for t in asked)
    coverage = []
    for row in wordings:
        scores = [0.0]
        for words in row:
            shared = sum(weight[t] for t in words & asked)
            total = sum(weight[t] for t in words)
            if shared and total:
                precision, recall = shared / total, shared / wanted
                scores.append(2 * precision * recall / (precision + recall))
        coverage.append(max(scores))
    return coverage


def _in_wordings(terms: Sequence[str], vocabulary: Iterable[str]) -> list[str]:
    """``terms``, each replaced by the wordings' word it shares a stem with (at least
    :data:`SHARED_STEM` letters, one beginning the other) when the wordings lack it."""
    known = set(vocabulary)
    return [
        term
        if term in known or len(term) < SHARED_STEM
        else next(
            (
                word
                for word in sorted(known)
                if len(word) >= SHARED_STEM and (word.startswith(term) or term.startswith(word))
            ),
            term,
        )
        for term in terms
    ]


def distinctive_rows(rows: Sequence[Row], among: Sequence[int], question: str) -> list[int]:
    """The rows of ``among`` that the question names by a word no other row of the same
    organisation uses: "Did Sutton keep its outstanding grade for leadership?" names the
    impact of leaders by "leadership" alone, though one word of a long wording is too little
    for :func:`aspect_coverage` (0.21)."""
    names = {t for row in rows if row.organisation for t in tokenize(row.organisation)}
    words = {i: {t for w in rows[i].wordings for t in tokenize(w)} - names for i in among}
    vocabulary = set().union(*words.values()) if words else set()
    asked = set(_in_wordings(tokenize(aspect_words(question)), vocabulary)) & vocabulary
    named = []
    for i in among:
        others = [j for j in among if j != i and rows[j].organisation == rows[i].organisation]
        if any(term in words[i] and not any(term in words[j] for j in others) for term in asked):
            named.append(i)
    return named
