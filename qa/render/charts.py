"""Charts as Vega-Lite specifications: plain JSON made at the edge, drawn by the app's
``st.vega_lite_chart`` and checked by fast tests without a browser.

A grade-over-time chart puts one aspect's inspections on a time axis and the four-point
scale (Inadequate < Requires improvement to be good < Good < Outstanding) on the other,
so a reader sees at a glance whether a service rose or fell, and by how many steps.
"""

from __future__ import annotations

from typing import Any

from qa.features.judgements.extract import Grade
from qa.features.judgements.timeline import Row
from qa.types import display_date

# The scale's axis labels, best at the top. "Requires improvement to be good" is shortened to
# fit a small chart beside the table; the tooltip and the table give the full grade.
AXIS_LABELS = {
    Grade.OUTSTANDING: "Outstanding",
    Grade.GOOD: "Good",
    Grade.REQUIRES_IMPROVEMENT: "Requires improvement",
    Grade.INADEQUATE: "Inadequate",
}
# The badges' colours (qa/app/style.css), so a point reads like the grade beside it.
GRADE_COLOURS = {
    Grade.OUTSTANDING: "#1d4e89",
    Grade.GOOD: "#1f7a3f",
    Grade.REQUIRES_IMPROVEMENT: "#a35a00",
    Grade.INADEQUATE: "#b3261e",
}
CHART_HEIGHT = 130


def _on_time_axis(date: str) -> str:
    """A partial ISO date as a day on a time axis: a month at its middle, a year at its
    middle, so a point sits inside the period the document gives and no earlier."""
    parts = date.split("-")
    if len(parts) == 1:
        return f"{parts[0]}-07-01"
    if len(parts) == 2:
        return f"{parts[0]}-{parts[1]}-15"
    return date


def grade_chart(row: Row) -> dict[str, Any] | None:
    """The grade of ``row``'s aspect at each dated inspection, oldest first, joined by a line;
    None when fewer than two inspections are dated (a single point shows no change)."""
    scale = [AXIS_LABELS[grade] for grade in sorted(Grade, key=lambda g: -g.rank)]
    values = [
        {
            "date": _on_time_axis(entry.inspection),
            "level": AXIS_LABELS[entry.grade],
            "grade": entry.grade.label,
            "inspection": display_date(entry.inspection),
        }
        for entry in row.entries
        if entry.inspection
    ]
    if len(values) < 2:
        return None
    return {
        "height": CHART_HEIGHT,
        "data": {"values": values},
        "encoding": {
            "x": {
                "field": "date",
                "type": "temporal",
                "title": None,
                "scale": {"padding": 24, "nice": False},
                # A tick at each inspection, labelled with its year: the spacing shows the
                # time between inspections, the labels only what the documents say.
                "axis": {"values": [v["date"] for v in values], "format": "%Y", "grid": False},
            },
            "y": {
                "field": "level",
                "type": "ordinal",
                "title": None,
                "scale": {"domain": scale},
                "axis": {"labelLimit": 150},
            },
            "tooltip": [
                {"field": "inspection", "title": "Inspection"},
                {"field": "grade", "title": "Grade"},
            ],
        },
        "layer": [
            {"mark": {"type": "line", "color": "#8a94a3", "strokeWidth": 1.5}},
            {
                "mark": {"type": "point", "filled": True, "size": 110, "opacity": 1},
                "encoding": {
                    "color": {
                        "field": "level",
                        "type": "nominal",
                        "scale": {
                            "domain": list(AXIS_LABELS.values()),
                            "range": list(GRADE_COLOURS.values()),
                        },
                        "legend": None,
                    }
                },
            },
        ],
    }


def chart_description(row: Row) -> str:
    """The chart in words, for a screen reader: "Grade at each inspection: Good (March 2020),
    Requires improvement to be good (October 2024)"."""
    grades = ", ".join(
        f"{entry.grade.label} ({display_date(entry.inspection)})"
        for entry in row.entries
        if entry.inspection
    )
    return f"Grade at each inspection: {grades}"
