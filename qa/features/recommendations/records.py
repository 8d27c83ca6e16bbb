"""The recommendation records: an item a report asks to improve, where it is printed, the
same item in other reports, the progress reported on it and its status."""

from __future__ import annotations

from dataclasses import dataclass

from qa.types import Status

IMPROVEMENT = "improvement"
DECISION = "decision"


@dataclass(frozen=True)
class Place:
    """Where an item is printed: enough to cite it and to show it in its document.

    ``paragraph`` is the numbered paragraph as printed ("4.16") and ``item`` the list
    number or letter ("1", "b"), or the position of a bullet in its list ("3").
    ``document.text[start:end]`` is the item as printed, without its bullet or number.
    """

    section: str | None
    paragraph: str | None
    item: str | None
    start: int
    end: int
    page: int | None = None
    page_end: int | None = None


@dataclass(frozen=True)
class Recommendation:
    """One item a report asks to improve; ``places[0]`` is where it is first printed.

    ``text`` is the printed item with its whitespace collapsed. ``kind`` is ``"improvement"``
    or ``"decision"`` (a step put to a council body, not a finding).
    """

    source: str
    title: str
    date: str | None
    text: str
    kind: str
    places: tuple[Place, ...]


@dataclass(frozen=True)
class Evidence:
    """A sentence of a later report saying that progress was made on an item."""

    source: str
    title: str
    date: str | None
    text: str
    place: Place
    similarity: float


@dataclass(frozen=True)
class Link:
    """Another report's item judged to be the same recommendation, or to repeat ``part``:
    one of the concerns the earlier item lists ("the range of suitable accommodation")."""

    recommendation: Recommendation
    similarity: float
    part: str | None = None


@dataclass(frozen=True)
class TrackedRecommendation:
    """An item, the same item in earlier and later reports, and what became of it.

    ``status`` is one of:

    * ``"repeated"``: a later report lists it again, or (in the latest reports) it
      repeats an earlier report's item;
    * ``"addressed"``: no later report lists it, and one says progress was made
      (``evidence`` quotes that sentence);
    * ``"new"``: first raised in the latest reports;
    * ``"not mentioned later"``: later reports neither list it nor report progress;
    * ``"undated"``: the document has no date, so it cannot be placed in time.
    """

    recommendation: Recommendation
    status: Status
    earlier: tuple[Link, ...]
    later: tuple[Link, ...]
    evidence: Evidence | None
