"""The opening of a document, as the metadata readers see it: the span they read, its
``LABEL: value`` fields, a letter's salutation and an inspection report's cover.

Kept apart because the title, kind and date readers (:mod:`qa.corpus.titles`,
:mod:`qa.corpus.kinds`, :mod:`qa.corpus.dates`) all read these conventions, and
:mod:`qa.corpus.metadata` takes an inspection report's title and organisation from its
cover; each convention is written once, here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.corpus.organisations import organisation_name

HEADER_CHARS = 4000
"""How much of the text the readers look at for header fields, titles and date lines."""
FIELD = re.compile(  # "Report title: ...", "DATE<TAB>4 December 2024"
    r"^\s*(?P<label>[A-Z][A-Za-z ?/&'’-]{1,40}?)\s*(?::\s*|\t+\s*|\s{2,})(?P<value>\S.*)$"
)
# A label alone on its line, its value on the next: PDF tables of council report
# headers come out this way ("ORIGIN OF ITEM:" / "This item is contained in ...").
_LABEL_LINE = re.compile(r"^\s*(?P<label>[A-Z][A-Za-z ?/&'’-]{1,40}?)\s*:\s*$")
SALUTATION = re.compile(r"^\s*Dear\s+\S.*$", re.MULTILINE)  # a letter's "Dear ..." line


def header_fields(text: str) -> list[tuple[str, str]]:
    """``LABEL: value`` / ``LABEL<TAB>value`` lines of the document's header, and a
    ``LABEL:`` line followed by its value on the next line that has text."""
    pairs = []
    lines = text[:HEADER_CHARS].splitlines()
    for i, line in enumerate(lines):
        match = FIELD.match(line)
        if match:
            pairs.append((match["label"].strip().lower(), match["value"].strip()))
            continue
        alone = _LABEL_LINE.match(line)
        if alone:
            following = next((later for later in lines[i + 1 : i + 3] if later.strip()), "")
            if following and not FIELD.match(following):
                pairs.append((alone["label"].strip().lower(), following.strip()))
    return pairs


def is_letter(text: str) -> bool:
    """A salutation in the header and a "Yours sincerely" (or "faithfully") below it."""
    return bool(
        SALUTATION.search(text[:HEADER_CHARS])
        and re.search(r"\bYours\s+(?:sincerely|faithfully)\b", text)
    )


# Ofsted's cover, before the judgement table, in every template 2018–2026:
#   [page number] [masthead: "Oxfordshire County Council"] "Inspection of ..." "Inspection dates: ..."
# Matched on the text with its line breaks collapsed, so a reader that wraps the title
# differently ("Inspection of London Borough of / Sutton local authority children's / services")
# reads the same.
_COVER = re.compile(
    r"^[\W\d]*(?P<masthead>(?:\S+\s+){0,8}?)(?P<heading>Inspection\s+of\s.+?)\s+Inspection\s+dates?\s*:",
    re.IGNORECASE,
)
_COVER_CHARS = 600  # the covers measured put "Inspection dates" within 250 characters
_INSPECTION_SUBJECT = re.compile(
    r"^Inspection\s+of\s+(?P<subject>.*?)\s*(?:local\s+authority\s*)?"
    r"(?:children['’]s\s+(?:social\s+care\s+)?services)?$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cover:
    """What an inspection report's cover states: its title, and the council it names."""

    title: str
    organisation: str | None


def inspection_cover(text: str) -> Cover | None:
    """Title and organisation on an inspection report's cover.

    Until 2019 the council stands above a generic heading ("London Borough of Croydon" /
    "Inspection of children's social care services"): the title joins the two, or five
    councils' reports would share one title. From 2021 the heading names the council.
    """
    head = " ".join(text[: _COVER_CHARS * 2].split())[:_COVER_CHARS]
    match = _COVER.match(head)
    if not match:
        return None
    heading = match["heading"]
    subject = inspection_subject(heading)
    masthead = match["masthead"].strip()
    if subject:
        return Cover(heading, organisation_name(subject))
    if masthead:
        return Cover(f"{masthead}: {heading}", organisation_name(masthead))
    return Cover(heading, None)


def inspection_subject(title: str) -> str | None:
    """The council in an inspection's title: "Inspection of Sutton local authority
    children's services" → "Sutton"; None for a generic heading."""
    match = _INSPECTION_SUBJECT.match(title)
    return match["subject"] if match and match["subject"] else None
