"""Title, organisation, kind and date of a document, read from what it states (pure).

Users bring PDFs named by a publisher's file id ("50263391.pdf"), so the file name
says nothing; the text does. Every rule here reads a convention of a KIND of
document (the Ofsted cover page, a council report's header fields, a letter's
salutation, a web article's furniture), never a council or a file.

Example::

    meta = extract_metadata("50263391.pdf", text)
    meta.title         # "Inspection of Croydon local authority children's services"
    meta.organisation  # "Croydon"
    meta.kind          # DocumentKind.INSPECTION_REPORT
    meta.date          # "2024-10-25": the last day of the inspection

Each fact has its reader, with the decisions and the evidence behind it:
:mod:`qa.corpus.titles`, :mod:`qa.corpus.kinds`, :mod:`qa.corpus.dates`, and
:mod:`qa.corpus.organisations` for the forms of a name; :mod:`qa.corpus.header` holds the
conventions of a document's opening they share. This module puts them together, in
order of trust:

- An inspection report's **cover** is decisive for its title and organisation (before
  2021 its masthead joined to the generic heading: "London Borough of Croydon:
  Inspection of children's social care services").
- **Organisation** is a display name without the authority's type: "London Borough
  of Croydon", "Croydon Council" and "CROYDON" are all "Croydon"; "City of Bradford
  Metropolitan District Council" and "Bradford Children and Families Trust" (the
  trust runs the council's children's services) are "Bradford". Ofsted's own
  reports name the same council in several such forms (see tests/test_metadata.py),
  so only the place name matches them all. ``organisation_key`` is the form to
  compare (lower case, no punctuation, "&" as "and"). The cover's council, else the
  subject of an inspection's title, else the council the text mentions most.
- A letter's date line dates it when no header field does; the file name's date is
  the last resort.
- A sidecar file (:class:`Overrides`, read by ``qa.corpus.files.read_sidecar``)
  overrides any of the four.

For the rest of the product: :func:`extract_metadata` gives the :class:`Metadata` of a
document; :mod:`qa.corpus.organisations` the display and matching forms of a name
and the organisations of a corpus that a question names.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.corpus.dates import date_from_name, date_from_text, letter_date
from qa.corpus.header import inspection_cover, inspection_subject, is_letter
from qa.corpus.kinds import kind_from_text
from qa.corpus.organisations import organisation_from_mentions, organisation_name
from qa.corpus.titles import letter_subject, title_from_name, title_from_text
from qa.types import DocumentKind


@dataclass(frozen=True)
class Overrides:
    """What a sidecar file states about a document; ``None`` keeps what the text says."""

    title: str | None = None
    date: str | None = None
    organisation: str | None = None
    kind: DocumentKind | None = None


@dataclass(frozen=True)
class Metadata:
    """The facts a citation and a filter need, as the document states them.

    ``organisation`` is the council or body the document is about, as a display name
    ("Croydon", "West Sussex"), or ``None`` when the text does not say. ``date`` is
    a partial ISO date ("2024-12-04", "2020-03", "2017") as precise as stated.
    """

    title: str
    date: str | None
    organisation: str | None
    kind: DocumentKind


def extract_metadata(
    source: str, text: str, stated_title: str | None = None, overrides: Overrides | None = None
) -> Metadata:
    """Title, organisation, kind and date of one document.

    ``stated_title`` is the title its file format carries (PDF, DOCX, HTML);
    ``overrides`` what its sidecar file states, which wins over the text.
    """
    overrides = overrides or Overrides()
    cover = inspection_cover(text)
    if cover:
        title = cover.title
    else:
        title = (
            (letter_subject(text) if is_letter(text) else None)
            or title_from_text(text, stated_title)
            or title_from_name(source)
        )
    kind = kind_from_text(text, title)
    subject = inspection_subject(title) if kind is DocumentKind.INSPECTION_REPORT else None
    organisation = (
        (cover.organisation if cover else None)
        or (organisation_name(subject) if subject else None)
        or organisation_from_mentions(text)
    )
    date = date_from_text(text)
    if date is None and kind is DocumentKind.LETTER:
        date = letter_date(text)
    return Metadata(
        title=overrides.title or title,
        date=overrides.date or date or date_from_name(source),
        organisation=overrides.organisation or organisation,
        kind=overrides.kind or kind,
    )
