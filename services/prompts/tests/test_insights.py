from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC

import pytest

from notewell.clinical import measures

pytestmark = pytest.mark.asyncio


async def test_insights_hold_the_computed_values_and_an_svg_chart(harness) -> None:
    client_id = await harness.full_client()

    insights = await harness.insights(client_id)

    assert insights.client_id == client_id
    assert [t.summary.instrument for t in insights.scores] == ["GAD-7", "PHQ-9"]
    phq9 = insights.scores[1]
    assert [
        (measures.day(p.administered_at), p.score, p.severity, p.reliable_change)
        for p in phq9.points
    ] == [
        ("2026-09-20", 20, "severe", ""),
        ("2026-10-15", 13, "moderate", "improved"),
        ("2026-11-01", 9, "mild", "no reliable change"),
    ]
    assert phq9.summary.latest_score == 9
    assert phq9.summary.change_since_baseline == -11
    assert phq9.summary.reliable_change == "improved"
    assert [(b.label, b.low, b.high) for b in phq9.bands] == [
        ("minimal", 0, 4),
        ("mild", 5, 9),
        ("moderate", 10, 14),
        ("moderately severe", 15, 19),
        ("severe", 20, 27),
    ]

    (sleep,) = insights.wearables
    assert sleep.trend.metric == "sleep_minutes"
    assert sleep.trend.recent_mean == 420
    assert sleep.trend.baseline_mean == 360
    assert sleep.trend.direction == "up"
    assert len(sleep.dates) == len(sleep.values) == 30
    assert sleep.values[0] == 360 and sleep.values[-1] == 420

    themes = {t.label: t.note_count for t in insights.themes}
    assert themes == {"sleep": 3, "work stress": 2}
    assert insights.generated_at.ToDatetime(tzinfo=UTC).year >= 2026

    (chart,) = insights.charts
    assert chart.media_type == "image/svg+xml"
    root = ET.fromstring(chart.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert b"PHQ-9" in chart.data and b"moderately severe" in chart.data
    assert chart.alt_text.startswith("Line chart of measure scores")
    assert (
        "PHQ-9 scores over time: 2026-09-20 20 (severe), 2026-10-15 13 (moderate)"
        ", improved, 2026-11-01 9 (mild)" in chart.alt_text
    )


async def test_insights_of_a_client_with_notes_only(harness) -> None:
    client_id = await harness.full_client(with_scores=False)

    insights = await harness.insights(client_id, recent_days=7)

    assert not insights.scores and not insights.wearables and not insights.charts
    assert {t.label for t in insights.themes} == {"sleep", "work stress"}
