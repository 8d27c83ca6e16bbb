"""What kind of finding a question asks for, and whether a sentence states one.

"Who led the inspection?" asks for a person, "How many children ...?" for a count, "On what
date ...?" for a day. The answer stage favours sentences that state a finding of the asked
kind (a person beside the asked role, a number beside what is counted, a date that is not
the question's own), and says so when none of its sentences does, instead of quoting
sentences that are only about the subject.

Example::

    kind = finding_asked("Who was the lead inspector?")   # Finding.PERSON
    states_finding(kind, "Lead inspector: Christine Kennet", "Who was the lead inspector?")
"""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence

from qa.corpus.dates import MONTH_NAMES
from qa.index.lexical import tokenize
from qa.text import normalise_space
from qa.types import AnswerSentence

# A person, named the way official documents name one: beside a role or an honorific
# ("Lead inspector: Gareth Dakin", "Debbie Jones, Corporate Director", "Councillor Maria
# Gatland"). A capitalised phrase alone is as often a place or a service ("London Borough"),
# and the words institutions are named with ("Children's Services Panel Member") are no name.
_ROLE = (
    r"(?:[Ii]nspector|[Dd]irector|[Cc]hair(?:man|woman|person)?|[Ll]eader|[Cc]hief|[Ee]xecutive"
    r"|[Oo]fficer|[Cc]ouncillor|[Mm]ember|[Mm]inister|[Hh]ead|[Mm]anager|[Cc]ommissioner"
    r"|[Mm]ayor|[Ss]ecretary|[Pp]resident|HMI)\b"
)
_HONORIFIC = r"(?:Councillor|Cllr\.?|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Miss|Sir|Dame|Professor|Lord|Lady)"
_INSTITUTIONAL = (
    r"(?:His|Her|Their|The|Of|And|For|Children|Young|People|Services?|Council|Borough|Panel"
    r"|Board|Committee|Department|Authority|Local|Social|Care|Education|Health|Improvement"
    r"|Assurance|Inspection|Report|Policy|Strategy|Partnership|Safeguarding|Family|Families"
    r"|Quality|Performance|Commissioning|Corporate|Cabinet|Lead|Executive|Office|Team)\b"
)
_NAME_WORD = rf"(?!{_ROLE}|{_INSTITUTIONAL})[A-Z][a-z'’-]*[a-z](?:[A-Z][a-z'’-]+)?"
_PERSON = re.compile(
    rf"(?:(?P<before>{_HONORIFIC}|{_ROLE}):?\s+)?"
    rf"(?P<found>{_NAME_WORD}(?:[ -]{_NAME_WORD})+)"
    rf"(?(before)|(?=,?\s+(?:(?:the|a|an|our|its|his|her)\s+)?(?:[\w’'-]+\s+){{0,3}}?{_ROLE}))"
)
_ROLE_WORD = re.compile(_ROLE)
# A signature or address block: a name alone on its line, its role on the next
# ("Katherine Kerswell" / "Chief Executive", "Joe Bloggs" / "His Majesty's Inspector").
_SIGNATURE = re.compile(
    rf"^[ \t]*(?P<name>{_NAME_WORD}(?:[ -]{_NAME_WORD})+)[ \t]*\n[ \t]*"
    rf"(?P<role>(?:[\w’'-]+[ \t]+){{0,3}}?{_ROLE}[^\n]*)$",
    re.MULTILINE,
)


def signature_spans(text: str) -> tuple[tuple[int, int], ...]:
    """Spans of the signature blocks of ``text``: a name on its line and the role on the
    next, which read as one statement ("Katherine Kerswell Chief Executive") though
    neither line is a sentence."""
    return tuple((m.start("name"), m.end("role")) for m in _SIGNATURE.finditer(text))


_MONTH = f"(?i:{MONTH_NAMES})"
# A date a document gives: "16th March 2020", "14 to 25 October 2024", "March 2020", "03/12/24".
_DAY = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:to|and|-|–)\s*\d{{1,2}}(?:st|nd|rd|th)?)?"
    rf"\s+(?:of\s+)?(?:{_MONTH})\b(?:,?\s+(?:19|20)\d\d\b)?"
    rf"|\b(?:{_MONTH})\s+\d{{1,2}}(?:st|nd|rd|th)?\b(?:,?\s+(?:19|20)\d\d\b)?"
    r"|\b\d{1,2}/\d{1,2}/(?:\d\d){1,2}\b"
)
_DATE = re.compile(rf"{_DAY.pattern}|\b(?:{_MONTH})\s+(?:19|20)\d\d\b|\b(?:19|20)\d\d\b")
_PERCENTAGE = re.compile(
    r"\d(?:[\d.,]*\d)?\s?(?:%|per\s?cent\b|percent\b)"
    r"|\b(?:half|third|quarter|majority|most|all|none)\b",
    re.IGNORECASE,
)
# A figure: a number that is not part of a date (the day and year of "14 October 2024" count
# nothing), or a number word.
_FIGURE = re.compile(
    r"(?<![\w/.])(?!(?:19|20)\d\d\b)£?\d[\d,.]*(?:k|m|bn|million|billion)?\b"
    r"|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\w+teen|dozen"
    r"|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|million"
    r"|billion|half|third|quarter|double|twice|treble)\b",
    re.IGNORECASE,
)


class Finding(enum.Enum):
    """The kinds of finding a question can ask for by its words."""

    PERSON = "person"
    NAME = "name"
    PERCENTAGE = "percentage"
    FIGURE = "figure"
    DAY = "day"
    DATE = "date"


# The question's words that ask for each kind, in order of precedence: "what percentage" asks
# for a share before "what" asks for anything else, "on what date" for a day, "when" for any date.
_ASKS: tuple[tuple[Finding, re.Pattern[str]], ...] = (
    (
        Finding.PERSON,
        re.compile(
            r"^\W*who\b|\b(?:who|whom)\s+(?:is|was|were|led|leads|chairs?|runs?)\b"
            r"|\bwhich\s+(?:[\w’'-]+\s+){0,2}?(?:inspector|HMI|councillor|officer|person|director|member)s?\b",
            re.I,
        ),
    ),
    (
        Finding.NAME,
        re.compile(
            # not "Which council's panel is called Empire?": that asks for the council
            r"^(?!\W*(?:which|who)\b).*?(?:\bwhat\s+(?:is|was|are|were)\s+(?:the\s+)?names?\s+of\b"
            r"|\bcalled\b|\bknown\s+as\b)",
            re.I,
        ),
    ),
    (
        Finding.PERCENTAGE,
        re.compile(
            r"\b(?:what|which)\s+(?:percentage|proportion|share)\b|\bper\s?cent"
            r"|\bhow\s+much\s+of\b",
            re.I,
        ),
    ),
    (
        Finding.FIGURE,
        re.compile(
            r"\bhow\s+(?:many|much|long|large|big)\b|\bwhat\s+(?:number|amount|figure|rate)\b"
            r"|\bwhat\s+(?:was|is|were|are)\s+the\s+(?:average|mean|median|total)\b"
            r"|\bhow\s+\w+\s+(?:were|was)\s+there\b",
            re.I,
        ),
    ),
    (Finding.DAY, re.compile(r"\b(?:what|which)\s+(?:date|day)s?\b", re.I)),
    (Finding.DATE, re.compile(r"^\W*when\b|\b(?:what|which)\s+(?:year|month)\b", re.I)),
)
# A name a document gives something: capitalised words inside a sentence ("the
# multidisciplinary Willow team"), an acronym ("(SPOC)") or a quoted term ("‘Hampshire
# Approach’"); at a sentence's start a capital says nothing.
_NAMED = re.compile(
    r"(?<=[\w,;:(] )[A-Z][\w’'-]*(?:\s+(?:of\s+|and\s+|the\s+)?[A-Z][\w’'-]*)*"
    r"|\b[A-Z]{2,}\b|[‘“'\"][^’”'\"\n]{3,60}[’”'\"]"
)
_FOUND = {
    Finding.PERSON: _PERSON,
    Finding.NAME: _NAMED,
    Finding.PERCENTAGE: _PERCENTAGE,
    Finding.FIGURE: _FIGURE,
    Finding.DAY: _DAY,
    Finding.DATE: _DATE,
}


# "Who led the inspection?" asks for the lead inspector without naming the role.
_LEADING = re.compile(r"\b(?:led|leads?|leading)\b", re.IGNORECASE)


def asks_for_role_holder(question: str) -> bool:
    """Whether ``question`` asks who holds a role ("Who led Ofsted's most recent inspection?",
    "Who is the chief executive?"), not who does something ("Who provides the out-of-hours
    service?", answered by an organisation)."""
    return finding_asked(question) is Finding.PERSON and bool(
        _ROLE_WORD.search(question) or _LEADING.search(question)
    )


def finding_asked(question: str) -> Finding | None:
    """The kind of finding ``question`` asks for, if its words say one."""
    return next((kind for kind, asks in _ASKS if asks.search(question)), None)


def states_finding(kind: Finding | None, text: str, question: str) -> bool:
    """Whether ``text`` holds a finding of the asked kind that the question does not itself
    name: for "Who led the inspection of West Sussex?", "West Sussex" is no answer. A person
    answers a question naming a role only beside that role: "Who was the lead inspector?" is
    not answered by the Corporate Director."""
    if kind is None:
        return False
    asked = normalise_space(question).lower()
    roles = {role.lower() for role in _ROLE_WORD.findall(question)}
    counted = _counted(question) if kind is Finding.FIGURE else frozenset()
    # a count names its thing in a word ("15 supernumerary social workers"); a sum spent on a
    # service, in two ("£10million ... on children's services" is not spent on the redesign
    # of the out-of-hours service)
    spending = bool(_SPENDING.search(question))
    needed = 2 if spending else 1
    before = spending or bool(_AVERAGE.search(question))
    for match in _FOUND[kind].finditer(text):
        found = match["found"] if kind is Finding.PERSON else match[0]
        if found.lower() in asked:
            continue
        if kind is Finding.PERSON and roles:
            around = text[max(0, match.start() - 40) : match.end() + 60]
            if not roles & {role.lower() for role in _ROLE_WORD.findall(around)}:
                continue
        if counted:
            beside = set(tokenize(text[match.end() : match.end() + 50]))
            if before:  # "an average caseload of 17", "the Children's Services budget was £25m"
                beside |= set(tokenize(text[max(0, match.start() - 50) : match.start()]))
            if len(counted & beside) < min(len(counted), needed):
                continue
        if kind is Finding.FIGURE and (
            _REFERENCE.search(text, max(0, match.start() - 12), match.start())
            or text.startswith(" of the", match.end())
            or (spending and not _MONEY.match(found))
        ):
            continue
        return True
    return False


# "How much did X spend on Y?" asks for a sum of money spent on Y: "15 social workers" is no
# sum, and "£10million ... on children's services" no sum spent on adult social care.
_SPENDING = re.compile(
    r"\bhow\s+much\b.*\b(?:spen[dt]\w*|cost\w*|paid|pay|invest\w*|budget\w*|fund\w*)\b",
    re.IGNORECASE,
)
_MONEY = re.compile(r"£|\d[\d,.]*\s*(?:m\b|bn\b|k\b|million|billion|pounds)", re.IGNORECASE)
_SPENT_ON = re.compile(
    r"\b(?:spen[dt]\w*|invest\w*|paid|pay|budget)\s+(?:on|in|for)\s+((?:[\w’'-]+\s+){0,4})"
    r"|\bhow\s+much\s+(?:will|would|did|does|do|has|have)\s+((?:[\w’'-]+\s+){1,8}?)cost\b",
    re.IGNORECASE,
)


# A number naming a place in a document ("appendix 2", "para 4.3") or picking one of several
# ("one of the largest service areas") counts nothing.
_REFERENCE = re.compile(
    r"\b(?:appendix|annex|para(?:graph)?|section|item|page|table|chapter|part|no\.?)\s*$",
    re.IGNORECASE,
)
_AVERAGE = re.compile(
    r"\bwhat\s+(?:was|is|were|are)\s+the\s+(?:average|mean|median|total)\s+((?:[\w’'-]+\s+){1,4})",
    re.IGNORECASE,
)


def _counted(question: str) -> frozenset[str]:
    """The terms of what "how many" counts ("how many approved foster carer households" →
    approv, foster, carer, household), what money was spent on ("spend on adult social care")
    or what is averaged: a figure answers only beside them, so "beyond 21 years of age" is no
    count of households. Possessives ("Croydon's") are left out: they say whose, not what."""
    match = re.search(r"\bhow\s+many\s+((?:[\w’'-]+\s+){0,4})", question, re.IGNORECASE)
    if match is None and _SPENDING.search(question):
        match = _SPENT_ON.search(question)
    if match is None:
        match = _AVERAGE.search(question)
    if match is None:
        return frozenset()
    words = re.findall(r"[\w’'-]+", match[1] or match[2])
    return frozenset(tokenize(" ".join(w for w in words if not re.search(r"['’]s$", w))))


# Questions whose answer is a figure or the holder of a role: "How many children were subject
# to a plan at 31 March 2024?", "Who was the lead inspector?". When none of the quoted
# sentences states one, the passages are about the subject but not the asked fact (measured
# on both reference sets: every answerable such question's answer states one). "How much" is
# checked only for money spent on something named ("How much did X spend on Y?"): "How much
# progress has been made?" is answered in words.
_COUNT = re.compile(r"\bhow\s+many\b", re.IGNORECASE)


def unstated_finding(question: str, sentences: Sequence[AnswerSentence]) -> str | None:
    """The note saying the answer lacks the count or the role's holder ``question`` asks for,
    when it does; ``None`` when the answer states it or the question asks for neither."""
    kind = finding_asked(question)
    if asks_for_role_holder(question):
        lacking = "names anyone in the role asked about"
    elif kind is Finding.FIGURE and (_COUNT.search(question) or _AVERAGE.search(question)):
        lacking = "states a number for what was asked"
    elif kind is Finding.FIGURE and _SPENT_ON.search(question) and _SPENDING.search(question):
        lacking = "states a sum spent on what was asked"
    else:
        return None
    if any(states_finding(kind, sentence.text, question) for sentence in sentences):
        return None
    return f"No passage found {lacking}; the closest passages are listed below."
