"""The grade-over-time chart's Vega-Lite specification: one point per dated inspection on the
four-point scale, best at the top, and no chart where there is nothing to compare."""

from __future__ import annotations

import json

from qa.features.judgements.extract import Grade
from qa.features.judgements.timeline import Entry, Row
from qa.render.charts import AXIS_LABELS, chart_description, grade_chart


def row(*grades: tuple[Grade, str | None]) -> Row:
    entries = tuple(Entry(grade, inspection, (), ()) for grade, inspection in grades)
    return Row("Croydon", "Help and protection", ("Help and protection",), entries)


def test_each_dated_inspection_is_a_point_on_the_four_point_scale() -> None:
    spec = grade_chart(
        row((Grade.INADEQUATE, "2017"), (Grade.GOOD, "2020-03"), (Grade.REQUIRES_IMPROVEMENT,
            "2024-10-25"), (Grade.GOOD, None))
    )  # fmt: skip
    assert spec is not None
    json.dumps(spec)  # plain JSON for st.vega_lite_chart
    points = spec["data"]["values"]
    assert [(p["date"], p["grade"], p["inspection"]) for p in points] == [
        ("2017-07-01", "Inadequate", "2017"),
        ("2020-03-15", "Good", "March 2020"),
        ("2024-10-25", "Requires improvement to be good", "25 October 2024"),
    ], "undated grades cannot be placed in time"
    y = spec["encoding"]["y"]
    assert y["scale"]["domain"] == ["Outstanding", "Good", "Requires improvement", "Inadequate"]
    assert [p["level"] for p in points] == ["Inadequate", "Good", "Requires improvement"]
    assert spec["encoding"]["x"]["axis"]["values"] == [p["date"] for p in points]
    colours = spec["layer"][1]["encoding"]["color"]["scale"]
    assert colours["domain"] == list(AXIS_LABELS.values()) and len(set(colours["range"])) == 4


def test_one_dated_inspection_has_no_chart() -> None:
    assert grade_chart(row((Grade.GOOD, "2020"), (Grade.INADEQUATE, None))) is None
    assert grade_chart(row((Grade.GOOD, "2020"))) is None


def test_the_chart_is_described_in_words_for_a_screen_reader() -> None:
    described = chart_description(row((Grade.GOOD, "2020-03"), (Grade.INADEQUATE, "2024")))
    assert described == "Grade at each inspection: Good (March 2020), Inadequate (2024)"
