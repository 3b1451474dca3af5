"""The Insights chart: each instrument's scores over time on its own panel, its
severity bands shaded, reliable changes marked; SVG drawn with matplotlib."""

from __future__ import annotations

import io
from datetime import UTC

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from notewell.clinical import measures
from notewell.prompts.v1.prompts_pb2 import Chart, ScoreTrajectory

MEDIA_TYPE = "image/svg+xml"
# Light to dark: the bands read from least to most severe.
_BAND_COLOURS = ["#e8f5e9", "#fff8e1", "#ffe0b2", "#ffccbc", "#ffcdd2", "#f8bbd0"]
_MARKERS = {measures.IMPROVED: ("v", "#2e7d32"), measures.DETERIORATED: ("^", "#c62828")}


def score_chart(trajectories: list[ScoreTrajectory]) -> Chart:
    """One panel per instrument. The SVG carries no client name; its text is the
    instruments, dates and band labels.

    Drawn on a Figure of its own, without pyplot's global state, so charts can be
    drawn in worker threads."""
    rows = max(len(trajectories), 1)
    figure = Figure(figsize=(7, 2.6 * rows))
    axes = figure.subplots(rows, 1, squeeze=False)
    for axis, trajectory in zip(axes[:, 0], trajectories, strict=False):
        _panel(axis, trajectory)
    figure.tight_layout()
    out = io.BytesIO()
    # Without a date the same data always gives the same SVG.
    figure.savefig(out, format="svg", metadata={"Date": None})
    return Chart(
        media_type=MEDIA_TYPE, data=out.getvalue(), alt_text=alt_text(trajectories)
    )


def _panel(axis: Axes, trajectory: ScoreTrajectory) -> None:
    summary = trajectory.summary
    top = summary.max_score or max((p.score for p in trajectory.points), default=1)
    for band, colour in zip(
        trajectory.bands, _colours(len(trajectory.bands)), strict=True
    ):
        axis.axhspan(band.low - 0.5, band.high + 0.5, color=colour, zorder=0)
        axis.text(
            1.01,
            (band.low + band.high) / 2,
            band.label,
            transform=axis.get_yaxis_transform(),
            fontsize=7,
            va="center",
        )
    times = [p.administered_at.ToDatetime(tzinfo=UTC) for p in trajectory.points]
    scores = [p.score for p in trajectory.points]
    axis.plot(times, scores, color="#1a237e", marker="o", markersize=4, zorder=2)
    for when, point in zip(times, trajectory.points, strict=True):
        if point.reliable_change in _MARKERS:
            shape, colour = _MARKERS[point.reliable_change]
            axis.scatter(
                [when], [point.score], marker=shape, s=90, color=colour, zorder=3
            )
    axis.set_ylim(-0.5, top + 0.5)
    axis.set_title(summary.instrument, fontsize=10, loc="left")
    axis.set_ylabel("score")
    axis.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))
    axis.tick_params(axis="x", labelsize=7, rotation=20)


def _colours(bands: int) -> list[str]:
    """Shades for ``bands`` bands, lightest first; the last is always the darkest."""
    if bands <= 1:
        return _BAND_COLOURS[:bands]
    last = len(_BAND_COLOURS) - 1
    return [_BAND_COLOURS[round(i * last / (bands - 1))] for i in range(bands)]


def alt_text(trajectories: list[ScoreTrajectory]) -> str:
    """What the chart shows, in words, with every plotted figure."""
    if not trajectories:
        return "No scores recorded yet; the chart is empty."
    parts = []
    for t in trajectories:
        points = ", ".join(
            f"{measures.day(p.administered_at)} {p.score}"
            + (f" ({p.severity})" if p.severity else "")
            + (f", {p.reliable_change}" if p.reliable_change in _MARKERS else "")
            for p in t.points
        )
        bands = (
            "; shaded bands: " + ", ".join(f"{b.label} {b.low}-{b.high}" for b in t.bands)
            if t.bands
            else ""
        )
        parts.append(f"{t.summary.instrument} scores over time: {points}{bands}.")
    return (
        "Line chart of measure scores, one panel per instrument; triangles mark "
        "reliable improvement (down) or deterioration (up) from the previous score. "
        + " ".join(parts)
    )
