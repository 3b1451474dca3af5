"""Wearable trends: a recent window of a client's daily wearable data compared with
the days before it, and the plain sentence a note may quote.

A metric left at 0 was not measured that day and is ignored. When several summaries
cover one date (from different sources), that date's value is their mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from notewell.measures.v1.measures_pb2 import WearableDay, WearableTrend

SLEEP = "sleep_minutes"
RESTING_HEART_RATE = "resting_heart_rate_bpm"
HRV = "hrv_rmssd_ms"
STEPS = "steps"

METRICS = (SLEEP, RESTING_HEART_RATE, HRV, STEPS)

# A baseline of fewer measured days than this is too thin to compare against.
MIN_BASELINE_DAYS = 3


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    # A change of at least this much (either way) is "up" or "down", below it "steady".
    # Chosen to sit above ordinary night-to-night and day-to-day variation of
    # consumer devices, so one unusual week does not read as a trend.
    threshold: float
    per: str  # "a night", "a day"
    days_word: str  # "nights", "days"


METRIC_RULES = {
    SLEEP: Metric(SLEEP, "Sleep", 30, "a night", "nights"),
    RESTING_HEART_RATE: Metric(RESTING_HEART_RATE, "Resting heart rate", 3, "", "days"),
    HRV: Metric(HRV, "Heart-rate variability (RMSSD)", 5, "", "days"),
    STEPS: Metric(STEPS, "Steps", 1000, "a day", "days"),
}


def series(days: Sequence[WearableDay], metric: str) -> tuple[list[str], list[float]]:
    """Measured dates ("YYYY-MM-DD", ascending) and that metric's value on each."""
    by_date = _daily(days, metric)
    dates = sorted(by_date)
    return [d.isoformat() for d in dates], [by_date[d] for d in dates]


def trends(
    days: Sequence[WearableDay], recent_days: int = 14, today: date | None = None
) -> list[WearableTrend]:
    """One trend per metric measured in the last ``recent_days`` days up to and
    including ``today`` (UTC today when not given), compared with every earlier day.

    In each trend ``recent_days`` and ``baseline_days`` count the days actually
    measured, over which the means are taken; a metric with no measured day in the
    window is left out. ``direction`` is "" when the baseline has fewer than
    MIN_BASELINE_DAYS measured days."""
    end = today or datetime.now(UTC).date()
    start = end - timedelta(days=recent_days - 1)
    out = []
    for metric in METRICS:
        by_date = _daily(days, metric)
        recent = [v for d, v in by_date.items() if start <= d <= end]
        earlier = [v for d, v in by_date.items() if d < start]
        if not recent:
            continue
        trend = WearableTrend(
            metric=metric,
            context_id=f"wearable:{metric}",
            recent_mean=_rounded(metric, sum(recent) / len(recent)),
            recent_days=len(recent),
            window_days=recent_days,
        )
        if len(earlier) >= MIN_BASELINE_DAYS:
            trend.has_baseline = True
            trend.baseline_mean = _rounded(metric, sum(earlier) / len(earlier))
            trend.baseline_days = len(earlier)
            # Taken between the rounded means, so the figures a sentence shows and
            # the direction judged from them always agree.
            trend.change = _rounded(metric, trend.recent_mean - trend.baseline_mean)
            threshold = METRIC_RULES[metric].threshold
            if trend.change >= threshold:
                trend.direction = "up"
            elif trend.change <= -threshold:
                trend.direction = "down"
            else:
                trend.direction = "steady"
        out.append(trend)
    return out


def _rounded(metric: str, value: float) -> float:
    """Means are kept to the precision they are shown with: whole minutes, beats and
    steps, tenths of a millisecond of HRV."""
    return round(value, 1) if metric == HRV else float(round(value))


def _daily(days: Sequence[WearableDay], metric: str) -> dict[date, float]:
    values: dict[date, list[float]] = {}
    latest: dict[str, WearableDay] = {}
    for d in days:
        latest[d.summary_id or f"{d.date}|{d.source}"] = d
    for d in latest.values():
        value = float(getattr(d, metric))
        if value <= 0:
            continue
        try:
            on = date.fromisoformat(d.date)
        except ValueError:
            continue
        values.setdefault(on, []).append(value)
    return {on: sum(v) / len(v) for on, v in values.items()}


def describe_trend(trend: WearableTrend) -> str:
    """A deterministic sentence with the trend's figures, e.g. "Sleep averaged 6 h
    10 min a night over the last 14 days (12 nights measured), 48 min less than the
    earlier average of 6 h 58 min." Differences are taken between the shown (rounded)
    figures so the sentence's arithmetic holds."""
    rule = METRIC_RULES[trend.metric]
    per = f" {rule.per}" if rule.per else ""
    text = (
        f"{rule.label} averaged {_amount(trend.metric, trend.recent_mean)}{per} "
        f"over the last {trend.window_days} days ({trend.recent_days} "
        f"{rule.days_word} measured)"
    )
    if not trend.has_baseline:
        return text + "; there is too little earlier data to compare with."
    recent = _rounded(trend.metric, trend.recent_mean)
    earlier = _rounded(trend.metric, trend.baseline_mean)
    baseline = _amount(trend.metric, trend.baseline_mean)
    difference = _rounded(trend.metric, recent - earlier)
    if difference == 0:
        return text + f", the same as the earlier average of {baseline}."
    size = _difference(trend.metric, abs(difference))
    rate = trend.metric in (RESTING_HEART_RATE, HRV)
    more, less = ("higher", "lower") if rate else ("more", "less")
    comparison = f"{size} {more if difference > 0 else less}"
    if trend.direction == "steady":
        return text + f", close to the earlier average of {baseline} ({comparison})."
    return text + f", {comparison} than the earlier average of {baseline}."


def _amount(metric: str, value: float) -> str:
    shown = _rounded(metric, value)
    if metric == SLEEP:
        return _hours_minutes(int(shown))
    if metric == RESTING_HEART_RATE:
        return f"{int(shown)} bpm"
    if metric == HRV:
        return f"{shown:.1f} ms"
    return f"{int(shown):,}"


def _difference(metric: str, amount: float) -> str:
    if metric == SLEEP:
        return f"{int(amount)} min" if amount < 60 else _hours_minutes(int(amount))
    if metric == HRV:
        return f"{amount:.1f} ms"
    return _amount(metric, amount)


def _hours_minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours == 0:
        return f"{rest} min"
    return f"{hours} h {rest} min"
