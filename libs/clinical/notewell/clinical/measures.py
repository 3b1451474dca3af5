"""Measurement-based-care scores: validation, per-instrument summaries, trajectories
and the plain sentence a note may quote.

Every figure is computed here, never by a model, so a note's numbers can be checked
against the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.clinical.instruments import Instrument, instrument, normalise_code
from notewell.measures.v1.measures_pb2 import Measurement, MeasureSummary

IMPROVED = "improved"
DETERIORATED = "deteriorated"
NO_RELIABLE_CHANGE = "no reliable change"


class InvalidMeasurement(ValueError):
    """A measurement that cannot be recorded. The reason names fields, never values."""

    def __init__(self, reason: str, code: str = "invalid_measurement") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def validate_measurement(m: Measurement) -> None:
    """Raises InvalidMeasurement when ids or time are missing or the scores do not fit
    the instrument. Unknown instrument codes are allowed and only checked for sign and
    for items summing to the total."""
    for name in ("measurement_id", "client_id", "clinician_id", "instrument"):
        if not getattr(m, name).strip():
            raise InvalidMeasurement(f"{name} is missing", "missing_field")
    if not m.HasField("administered_at") or (
        m.administered_at.seconds == 0 and m.administered_at.nanos == 0
    ):
        raise InvalidMeasurement("administered_at is missing", "missing_field")

    known = instrument(m.instrument)
    items = list(m.item_scores)
    if known is None:
        if m.total_score < 0 or any(s < 0 for s in items):
            raise InvalidMeasurement("scores must not be negative", "score_out_of_range")
    else:
        _check_against(known, m.total_score, items)
    if items and sum(items) != m.total_score:
        raise InvalidMeasurement(
            "item_scores do not sum to total_score", "items_do_not_sum"
        )


def _check_against(known: Instrument, total: int, items: list[int]) -> None:
    if not known.min_score <= total <= known.max_score:
        raise InvalidMeasurement(
            f"total_score is outside the {known.code} range "
            f"{known.min_score}-{known.max_score}",
            "score_out_of_range",
        )
    if items and len(items) != known.items:
        raise InvalidMeasurement(
            f"{known.code} has {known.items} items, item_scores has {len(items)}",
            "wrong_item_count",
        )
    if any(not known.item_min <= s <= known.item_max for s in items):
        raise InvalidMeasurement(
            f"an item score is outside the {known.code} item range "
            f"{known.item_min}-{known.item_max}",
            "score_out_of_range",
        )


def reliable_change(earlier: int, later: int, threshold: int) -> str:
    """ "improved", "deteriorated" or "no reliable change" for a lower-is-better score;
    "" when no threshold is published."""
    if threshold <= 0:
        return ""
    change = later - earlier
    if change <= -threshold:
        return IMPROVED
    if change >= threshold:
        return DETERIORATED
    return NO_RELIABLE_CHANGE


def summarise(measurements: Sequence[Measurement]) -> list[MeasureSummary]:
    """One summary per instrument, sorted by instrument code. The baseline is the first
    administration on record; a redelivered measurement_id counts once."""
    return [
        _summary(code, series)
        for code, series in sorted(_by_instrument(measurements).items())
    ]


def trajectory(
    measurements: Sequence[Measurement], instrument_code: str
) -> list[tuple[Timestamp, int, str, str]]:
    """(administered_at, total, severity, reliable change against the administration
    before it) for one instrument, oldest first; the first point's change is ""."""
    series = _by_instrument(measurements).get(normalise_code(instrument_code), [])
    known = instrument(instrument_code)
    threshold = known.reliable_change if known else 0
    points: list[tuple[Timestamp, int, str, str]] = []
    for i, m in enumerate(series):
        change = (
            reliable_change(series[i - 1].total_score, m.total_score, threshold)
            if i
            else ""
        )
        severity = known.severity(m.total_score) if known else ""
        at = Timestamp()
        at.CopyFrom(m.administered_at)
        points.append((at, m.total_score, severity, change))
    return points


def _by_instrument(measurements: Sequence[Measurement]) -> dict[str, list[Measurement]]:
    unique: dict[str, Measurement] = {}
    for m in measurements:
        unique[m.measurement_id] = m
    groups: dict[str, list[Measurement]] = {}
    for m in unique.values():
        groups.setdefault(normalise_code(m.instrument), []).append(m)
    for series in groups.values():
        series.sort(key=_order)
    return groups


def _order(m: Measurement) -> tuple[int, int, str]:
    return (m.administered_at.seconds, m.administered_at.nanos, m.measurement_id)


def _summary(code: str, series: list[Measurement]) -> MeasureSummary:
    known = instrument(code)
    latest = series[-1]
    summary = MeasureSummary(
        context_id=f"measure:{code}",
        instrument=code,
        latest_score=latest.total_score,
        severity=known.severity(latest.total_score) if known else "",
        max_score=known.max_score if known else 0,
        count=len(series),
        item_flags=_item_flags(known, latest) if known else [],
    )
    summary.latest_at.CopyFrom(latest.administered_at)
    if len(series) > 1:
        previous, baseline = series[-2], series[0]
        summary.has_previous = True
        summary.change_since_previous = latest.total_score - previous.total_score
        summary.previous_at.CopyFrom(previous.administered_at)
        summary.has_baseline = True
        summary.change_since_baseline = latest.total_score - baseline.total_score
        summary.baseline_at.CopyFrom(baseline.administered_at)
        summary.reliable_change = reliable_change(
            baseline.total_score,
            latest.total_score,
            known.reliable_change if known else 0,
        )
    return summary


def _item_flags(known: Instrument, m: Measurement) -> list[str]:
    flags = []
    for flag in known.item_flags:
        if len(m.item_scores) >= flag.item:
            score = m.item_scores[flag.item - 1]
            if score >= flag.at_least:
                flags.append(
                    f"{known.code} item {flag.item} ({flag.description}) scored {score}"
                )
    return flags


def day(ts: Timestamp) -> str:
    """YYYY-MM-DD of a timestamp in UTC."""
    return ts.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d")


_RELIABLE_WORDS = {
    IMPROVED: "reliable improvement",
    DETERIORATED: "reliable deterioration",
    NO_RELIABLE_CHANGE: "no reliable change",
}


def describe_measure(summary: MeasureSummary) -> str:
    """A deterministic sentence with every figure of the summary, e.g. "PHQ-9 on
    2026-11-30: 14 of 27 (moderate); 6 lower than at intake on 2026-09-01 (reliable
    improvement); 2 lower than on 2026-11-16."."""
    score = f"{summary.latest_score}"
    if summary.max_score:
        score += f" of {summary.max_score}"
    if summary.severity:
        score += f" ({summary.severity})"
    known = instrument(summary.instrument)
    if known and known.note:
        score += f"; {known.note}, sex not recorded"
    parts = [f"{summary.instrument} on {day(summary.latest_at)}: {score}"]

    if summary.has_baseline:
        text = _difference(summary.change_since_baseline)
        text += f" at intake on {day(summary.baseline_at)}"
        if summary.reliable_change:
            text += f" ({_RELIABLE_WORDS[summary.reliable_change]})"
        parts.append(text)
    # With two administrations the previous one is the intake, said once.
    if summary.has_previous and summary.count > 2:
        text = _difference(summary.change_since_previous)
        if summary.HasField("previous_at"):
            text += f" on {day(summary.previous_at)}"
        else:
            text += " at the previous administration"
        parts.append(text)
    if summary.count > 1:
        parts.append(f"{summary.count} administrations on record")
    for flag in summary.item_flags:
        parts.append(flag)
    return "; ".join(parts) + "."


def _difference(change: int) -> str:
    if change < 0:
        return f"{-change} lower than"
    if change > 0:
        return f"{change} higher than"
    return "the same as"
