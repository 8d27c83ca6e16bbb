"""Organisations: the council or body a document is about, and the ones a question names (pure).

A display name keeps only the place: "London Borough of Croydon", "Croydon Council" and
"CROYDON" are all "Croydon"; "City of Bradford Metropolitan District Council" and
"Bradford Children and Families Trust" (the trust runs the council's children's
services) are "Bradford". Ofsted's own reports name one council in several such forms,
so only the place name matches them all. :func:`organisation_key` is the form to
compare (lower case, no punctuation, "&" as "and").

Example::

    organisation_name("City of Bradford Metropolitan District Council")  # "Bradford"
    organisations_in("How are Sutton's care leavers supported?", ["Sutton", "Croydon"])
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable

# Councils are named on the first pages; later pages compare them with others
# ("statistical neighbours such as ..."). 10,000 characters is about four pages.
_MENTION_CHARS = 10_000

# The type of authority around a place name: "London Borough of Sutton", "City of
# Bradford Metropolitan District Council", "Northmoor County Council", "Bradford
# Children and Families Trust" (a trust that runs a council's children's services).
_AUTHORITY_PREFIX = re.compile(
    r"^(?:the\s+)?(?:council\s+of\s+(?:the\s+)?|(?:(?:london|royal|metropolitan)\s+)?"
    r"(?:borough|city|county)\s+of\s+)?",
    re.IGNORECASE,
)
_AUTHORITY_SUFFIX = re.compile(
    r"\s+(?:council|county|city|borough|district|metropolitan|corporation|local\s+authority"
    r"|children['’]?s\s+trust|children\s+and\s+families\s+trust)$",
    re.IGNORECASE,
)
_CONNECTORS = frozenset({"and", "upon", "on", "of", "under", "le", "the", "&"})
_SMALL_WORDS = _CONNECTORS | {"in"}


def _title_case(name: str) -> str:
    """A name in capitals as a name: "WEST SUSSEX" → "West Sussex", "STOKE-ON-TRENT" →
    "Stoke-on-Trent" (mastheads: "LONDON BOROUGH OF CROYDON", "NORTHMOOR COUNTY COUNCIL")."""

    def word(part: str, first: bool) -> str:
        lower = part.lower()
        return lower if lower in _SMALL_WORDS and not first else lower.capitalize()

    return " ".join(
        "-".join(word(part, i == 0 and j == 0) for j, part in enumerate(token.split("-")))
        for i, token in enumerate(name.split())
    )


def organisation_name(name: str) -> str | None:
    """The display name of a council or body as this package writes it: the place
    without the type of authority, in the document's own capitals unless it shouts.

    >>> organisation_name("City of Bradford Metropolitan District Council")
    'Bradford'
    >>> organisation_name("LONDON BOROUGH OF CROYDON")
    'Croydon'
    """
    name = re.sub(r"['’]s$", "", " ".join(name.split()).strip(" .,:;"))
    name = _AUTHORITY_PREFIX.sub("", name)
    while True:
        shorter = _AUTHORITY_SUFFIX.sub("", name)
        if shorter == name:
            break
        name = shorter
    name = _AUTHORITY_PREFIX.sub("", name).strip()
    if not re.search(r"[A-Za-z]", name) or _AUTHORITY_SUFFIX.fullmatch(f" {name}"):
        return None  # "the Council", "County": a type of authority without a place
    return _title_case(name) if not re.search(r"[a-z]", name) else name


def organisation_key(name: str) -> str:
    """The form in which two names of one organisation compare equal: "London Borough
    of Sutton", "Sutton's" and "SUTTON" are all ``"sutton"``, "Brighton & Hove City
    Council" is ``"brighton and hove"``."""
    return _key_text(organisation_name(name) or name)


def _key_text(text: str) -> str:
    """Lower case, no possessive, no punctuation, "&" as "and", single spaces."""
    text = re.sub(r"['’]s\b", "", text.casefold().replace("&", " and "))
    return " ".join(re.sub(r"[\W_]+", " ", re.sub(r"['’]", "", text)).split())


# Words that name a function, not a place, found before "Council" or "children's
# services" in the measured documents ("Children in Care Council", "Local Authority
# Children's Services", "Ofsted Inspection of Croydon's ..."), and the function words
# that start a sentence ("Since Croydon Council ..."): a name keeps only the
# capitalised words after the last of them.
_NOT_PLACE = frozenset(
    """
    children child care young people families family services service social early help
    education leader cabinet member members executive director corporate ofsted committee
    scrutiny improvement board plan youth local authority authorities government inspection
    inspecting inspector inspectors report findings outcome update response department national
    safeguarding partnership health nhs police full trust her his majesty majesty's
    the this that these those our their its a an all each every both any some no
    in for from to with by on at as of into after before during since when while where if
    and but or so also however although because following further today now then
    """.split()  # noqa: SIM905 (a list of words reads best as words)
    + [name.lower() for name in calendar.month_name if name]
    + [name.lower() for name in calendar.day_name]
)
_WORD = r"[A-Z][A-Za-z-]*"
_NAME = rf"{_WORD}(?:[ \t]+(?:(?:and|upon|on|of|under|le|&)[ \t]+)?{_WORD}){{0,4}}"
# How a text names the authority it is about (measured on the 5 shipped documents,
# the Northmoor fixtures and the 17 ILACS reports).
_MENTIONS = (
    # "London Borough of Croydon", "LONDON BOROUGH OF CROYDON", "City of Bradford ..."
    re.compile(
        rf"\b(?i:(?:(?:london|royal|metropolitan)\s+)?(?:borough|city|county))\s+(?i:of)\s+(?P<name>{_NAME})"
    ),
    # "Croydon Council", "Northmoor County Council", "NORTHMOOR COUNTY COUNCIL"
    re.compile(rf"(?P<name>{_NAME})\s+(?i:council)\b"),
    # "Inspection of Sutton local authority children's services"
    re.compile(rf"(?P<name>{_NAME})\s+(?i:local\s+authority)\b"),
    # "Croydon's children", "Croydon's Early Help and Children's Social Care Services"
    re.compile(
        rf"(?P<name>{_NAME})['’]s\s+(?i:children|young\s+people|families|early\s+help|social\s+care|care\s+leavers|services)\b"
    ),
    # "rates Croydon children's services", "Croydon Children's Services"
    re.compile(rf"(?P<name>{_NAME})\s+(?i:children['’]s\s+(?:social\s+care\s+)?services)\b"),
)
_MASTHEAD_WEIGHT = 3  # a line that is only an authority's name heads the document


def _place(name: str) -> str | None:
    """The place in a captured name: the words after the last word that is not one
    (connectors belong to names: "Isle of Wight", "BARKING AND DAGENHAM")."""
    words = name.split()
    last = max(
        (i for i, w in enumerate(words) if w.lower() in _NOT_PLACE - _CONNECTORS), default=-1
    )
    kept = words[last + 1 :]
    while kept and kept[0].lower() in _CONNECTORS:
        kept = kept[1:]
    return organisation_name(" ".join(kept)) if kept else None


def organisation_from_mentions(text: str) -> str | None:
    """The authority named most often on the first pages; a masthead line counts more,
    and the first named wins a tie."""
    head = text[:_MENTION_CHARS]
    counts: Counter[str] = Counter()
    first_seen: dict[str, int] = {}
    names: dict[str, str] = {}
    for pattern in _MENTIONS:
        for match in pattern.finditer(head):
            place = _place(match["name"])
            if not place:
                continue
            key = organisation_key(place)
            line_start = head.rfind("\n", 0, match.start()) + 1
            line_end = head.find("\n", match.end())
            line = head[line_start : len(head) if line_end < 0 else line_end]
            alone = line.strip(" #\t") == match.group(0).strip()
            counts[key] += _MASTHEAD_WEIGHT if alone else 1
            first_seen[key] = min(first_seen.get(key, match.start()), match.start())
            names.setdefault(key, place)
    if not counts:
        return None
    best = max(counts, key=lambda key: (counts[key], -first_seen[key]))
    return names[best]


def organisations_in(question: str, known: Iterable[str]) -> tuple[str, ...]:
    """The organisations of ``known`` that ``question`` names, as given in ``known``, in
    the order the question names them.

    Names are compared as :func:`organisation_key` forms, so case, possessives and the
    type of authority do not matter: "in Bradford", "Bradford's care leavers" and "the
    City of Bradford" all name "Bradford". The longest name wins where two overlap
    ("West Northamptonshire" is not also "Northamptonshire").

    >>> organisations_in("How are Sutton's care leavers doing?", ["Croydon", "Sutton"])
    ('Sutton',)
    """
    text = f" {_key_text(question)} "
    keyed = sorted(
        {organisation_key(name): name for name in known if organisation_key(name)}.items(),
        key=lambda item: -len(item[0]),
    )
    taken: list[range] = []
    found: list[tuple[int, str]] = []
    for key, name in keyed:
        for match in re.finditer(rf"(?<= ){re.escape(key)}(?= )", text):
            span = range(match.start(), match.end())
            if not any(span.start < other.stop and other.start < span.stop for other in taken):
                taken.append(span)
                found.append((match.start(), name))
    seen: dict[str, int] = {}
    for start, name in sorted(found):
        seen.setdefault(name, start)
    return tuple(seen)


# --- the cover of an inspection report ----------------------------------------------------------


def others_in(question: str, known: Iterable[str]) -> tuple[str, ...]:
    """Places ``question`` names that share a word with one of the ``known`` organisations
    without being one: "North Northamptonshire" or "Northamptonshire County Council" asked of
    a corpus about West Northamptonshire (a neighbour, or the council before it). Their
    records are not the known organisation's. The question's first word is left out of a
    name (it is capitalised anyway: "Has East Sussex ...").

    >>> others_in("How was North Northamptonshire graded?", ["West Northamptonshire"])
    ('North Northamptonshire',)
    """
    keys = {organisation_key(name) for name in known}
    words = {word for key in keys for word in key.split() if len(word) > 3}
    found = []
    for match in re.finditer(_NAME, question):
        name = match.group()
        if organisation_key(_place(name) or "") in keys:
            continue
        if not question[: match.start()].strip():
            name = name.partition(" ")[2]
        place = _place(name) if name else None
        key = organisation_key(place) if place else ""
        if place and key not in keys and set(key.split()) & words:
            found.append(place)
    return tuple(dict.fromkeys(found))


# A word that makes a longer place name of the one after it: "North Northamptonshire" is not
# Northamptonshire.
_NOT_QUALIFIED = "".join(rf"(?<!\b{word}\s)" for word in ("North", "South", "East", "West", "Mid"))


def mentions_other(text: str, others: Iterable[str], known: Iterable[str]) -> bool:
    """Whether ``text`` names one of ``others`` (places from :func:`others_in`) outside the
    names of the ``known`` organisations: "the predecessor authority, Northamptonshire County
    Council, were judged inadequate in 2019" names Northamptonshire; "West Northamptonshire"
    alone does not."""
    wanted = [re.escape(name) for name in others]
    if not wanted:
        return False
    names = sorted({re.escape(name) for name in known if name}, key=len, reverse=True)
    outside = re.sub("|".join(names), " ", text, flags=re.IGNORECASE) if names else text
    pattern = _NOT_QUALIFIED + r"\b(?:" + "|".join(wanted) + r")\b"
    return bool(re.search(pattern, " ".join(outside.split()), re.IGNORECASE))
