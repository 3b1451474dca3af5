"""Insights for one client: score trajectories with bands and reliable-change marks,
wearable series and trends, recurring themes, and a chart of the scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from notewell.clinical import measures, wearables
from notewell.clinical.instruments import instrument
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.notes.v1.note_pb2 import Note
from notewell.platform import events
from notewell.prompts.chart import score_chart
from notewell.prompts.themes import recurring_themes
from notewell.prompts.v1.prompts_pb2 import (
    Insights,
    ScorePoint,
    ScoreTrajectory,
    Theme,
    WearableSeries,
)


def score_trajectories(measurements: Sequence[Measurement]) -> list[ScoreTrajectory]:
    out = []
    for summary in measures.summarise(measurements):
        known = instrument(summary.instrument)
        trajectory = ScoreTrajectory(summary=summary, bands=known.bands if known else [])
        for at, score, severity, change in measures.trajectory(
            measurements, summary.instrument
        ):
            point = ScorePoint(score=score, severity=severity, reliable_change=change)
            point.administered_at.CopyFrom(at)
            trajectory.points.append(point)
        out.append(trajectory)
    return out


def wearable_series(
    days: Sequence[WearableDay], recent_days: int, today: date | None = None
) -> list[WearableSeries]:
    out = []
    for trend in wearables.trends(days, recent_days, today):
        dates, values = wearables.series(days, trend.metric)
        out.append(WearableSeries(trend=trend, dates=dates, values=values))
    return out


def build_insights(
    client_id: str,
    notes: Sequence[Note],
    measurements: Sequence[Measurement],
    days: Sequence[WearableDay],
    recent_days: int = 14,
    today: date | None = None,
) -> Insights:
    scores = score_trajectories(measurements)
    themes = [
        Theme(label=t.label, note_count=t.note_count, note_ids=list(t.note_ids))
        for t in recurring_themes(list(notes), min_notes=2 if len(notes) > 1 else 1)
    ]
    insights = Insights(
        client_id=client_id,
        scores=scores,
        wearables=wearable_series(days, recent_days, today),
        themes=themes,
        generated_at=events.now_timestamp(),
    )
    if scores:
        insights.charts.append(score_chart(scores))
    return insights
