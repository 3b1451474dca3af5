from __future__ import annotations

from datetime import date, timedelta

import pytest

from notewell.clinical.wearables import describe_trend, series, trends
from notewell.measures.v1.measures_pb2 import WearableDay, WearableTrend

TODAY = date(2026, 11, 30)


def day(offset: int, **values: float) -> WearableDay:
    on = TODAY - timedelta(days=offset)
    return WearableDay(
        summary_id=f"s-{on.isoformat()}",
        client_id="client-1",
        clinician_id="clin-1",
        date=on.isoformat(),
        source="watch",
        **values,
    )


def history() -> list[WearableDay]:
    days = []
    # Baseline: days 14..43 ago. Sleep 420 min, HR 58, HRV 45, steps 6000.
    for offset in range(14, 44):
        days.append(
            day(
                offset,
                sleep_minutes=420,
                resting_heart_rate_bpm=58,
                hrv_rmssd_ms=45.0,
                steps=6000,
            )
        )
    # Recent 14 days: two nights without sleep data, one day of nothing at all.
    for offset in range(14):
        if offset == 5:
            continue
        sleep = 0 if offset in (2, 3) else 370
        days.append(
            day(
                offset,
                sleep_minutes=sleep,
                resting_heart_rate_bpm=62,
                hrv_rmssd_ms=43.0,
                steps=7200,
            )
        )
    return days


def test_trends_compare_the_recent_window_with_the_days_before() -> None:
    got = {t.metric: t for t in trends(history(), recent_days=14, today=TODAY)}
    assert list(got) == [
        "sleep_minutes",
        "resting_heart_rate_bpm",
        "hrv_rmssd_ms",
        "steps",
    ]

    sleep = got["sleep_minutes"]
    assert sleep.context_id == "wearable:sleep_minutes"
    assert (sleep.recent_mean, sleep.recent_days, sleep.window_days) == (370.0, 11, 14)
    assert (sleep.baseline_mean, sleep.baseline_days) == (420.0, 30)
    assert sleep.has_baseline
    assert sleep.change == -50.0
    assert sleep.direction == "down"

    heart = got["resting_heart_rate_bpm"]
    assert (heart.recent_mean, heart.recent_days, heart.change) == (62.0, 13, 4.0)
    assert heart.direction == "up"

    hrv = got["hrv_rmssd_ms"]
    assert (hrv.change, hrv.direction) == (-2.0, "steady")

    steps = got["steps"]
    assert (steps.change, steps.direction) == (1200.0, "up")


@pytest.mark.parametrize(
    ("change", "direction"),
    [(29, "steady"), (30, "up"), (-30, "down"), (-29, "steady"), (0, "steady")],
)
def test_sleep_threshold_is_thirty_minutes(change: int, direction: str) -> None:
    days = [day(o, sleep_minutes=400) for o in range(14, 20)]
    days += [day(o, sleep_minutes=400 + change) for o in range(3)]
    (trend,) = trends(days, today=TODAY)
    assert trend.direction == direction


def test_days_after_today_are_ignored_and_later_summaries_replace_earlier() -> None:
    days = [day(o, steps=5000) for o in range(14, 20)]
    days.append(day(-1, steps=99999))
    days.append(day(0, steps=1000))
    days.append(day(0, steps=8000))  # same summary_id: replaces the 1000
    (trend,) = trends(days, today=TODAY)
    assert (trend.recent_mean, trend.recent_days) == (8000.0, 1)
    assert trend.direction == "up"


def test_a_thin_baseline_is_not_compared() -> None:
    days = [day(20, steps=4000), day(21, steps=4000), day(1, steps=9000)]
    (trend,) = trends(days, today=TODAY)
    assert not trend.has_baseline
    assert trend.direction == ""
    assert trend.baseline_days == 0


def test_metrics_unmeasured_in_the_window_are_left_out() -> None:
    days = [day(o, sleep_minutes=400, steps=5000) for o in range(14, 30)]
    days += [day(1, steps=5200)]
    assert [t.metric for t in trends(days, today=TODAY)] == ["steps"]
    assert trends([], today=TODAY) == []


def test_series_lists_measured_days_only_in_order() -> None:
    days = [day(2, sleep_minutes=400), day(0, sleep_minutes=380), day(1, steps=10)]
    assert series(days, "sleep_minutes") == (["2026-11-28", "2026-11-30"], [400.0, 380.0])
    assert series(days, "steps") == (["2026-11-29"], [10.0])


def test_describe_trend_sentences() -> None:
    got = {t.metric: t for t in trends(history(), recent_days=14, today=TODAY)}
    assert describe_trend(got["sleep_minutes"]) == (
        "Sleep averaged 6 h 10 min a night over the last 14 days (11 nights "
        "measured), 50 min less than the earlier average of 7 h 0 min."
    )
    assert describe_trend(got["resting_heart_rate_bpm"]) == (
        "Resting heart rate averaged 62 bpm over the last 14 days (13 days measured), "
        "4 bpm higher than the earlier average of 58 bpm."
    )
    assert describe_trend(got["hrv_rmssd_ms"]) == (
        "Heart-rate variability (RMSSD) averaged 43.0 ms over the last 14 days "
        "(13 days measured), close to the earlier average of 45.0 ms (2.0 ms lower)."
    )
    assert describe_trend(got["steps"]) == (
        "Steps averaged 7,200 a day over the last 14 days (13 days measured), "
        "1,200 more than the earlier average of 6,000."
    )


def test_describe_trend_example_and_edge_cases() -> None:
    trend = WearableTrend(
        metric="sleep_minutes",
        context_id="wearable:sleep_minutes",
        recent_mean=370.4,
        recent_days=12,
        window_days=14,
        has_baseline=True,
        baseline_mean=418.2,
        baseline_days=40,
        change=-47.8,
        direction="down",
    )
    assert describe_trend(trend) == (
        "Sleep averaged 6 h 10 min a night over the last 14 days (12 nights measured), "
        "48 min less than the earlier average of 6 h 58 min."
    )
    lone = WearableTrend(metric="steps", recent_mean=5300.0, recent_days=3, window_days=7)
    assert describe_trend(lone) == (
        "Steps averaged 5,300 a day over the last 7 days (3 days measured); there is "
        "too little earlier data to compare with."
    )
    same = WearableTrend(
        metric="resting_heart_rate_bpm",
        recent_mean=60.2,
        recent_days=5,
        window_days=14,
        has_baseline=True,
        baseline_mean=59.8,
        baseline_days=9,
        change=0.4,
        direction="steady",
    )
    assert describe_trend(same) == (
        "Resting heart rate averaged 60 bpm over the last 14 days (5 days measured), "
        "the same as the earlier average of 60 bpm."
    )


def test_describe_trend_gives_hours_for_large_sleep_changes() -> None:
    days = [day(o, sleep_minutes=360) for o in range(14, 20)]
    days += [day(o, sleep_minutes=425) for o in range(2)]
    (trend,) = trends(days, today=TODAY)
    assert (trend.change, trend.direction) == (65.0, "up")
    assert describe_trend(trend) == (
        "Sleep averaged 7 h 5 min a night over the last 14 days (2 nights measured), "
        "1 h 5 min more than the earlier average of 6 h 0 min."
    )
