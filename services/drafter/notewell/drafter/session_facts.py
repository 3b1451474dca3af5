"""Session facts in words, computed in code from the event, never by the model."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SessionFacts

_MODALITIES = {
    Modality.MODALITY_TELEHEALTH: "Telehealth",
    Modality.MODALITY_IN_PERSON: "In-person",
}


def _when(ts: Timestamp) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return ts.ToDatetime(tzinfo=UTC)


def _start(facts: SessionFacts) -> datetime | None:
    return _when(facts.actual_start) or _when(facts.scheduled_start)


def date_of_service(facts: SessionFacts, otherwise: Timestamp) -> str:
    """The session's date (UTC) as YYYY-MM-DD; ``otherwise`` when the facts have none."""
    start = _start(facts) or _when(otherwise)
    return start.date().isoformat() if start else "date unknown"


def describe(facts: SessionFacts) -> str:
    """One or two plain sentences: modality, date and times, duration, suggested code."""
    kind = _MODALITIES.get(facts.modality, "Psychotherapy")
    sentence = f"{kind} session"
    start = _start(facts)
    end = _when(facts.actual_end) or _when(facts.scheduled_end)
    if start:
        sentence += f" on {start.date().isoformat()}"
        if end:
            sentence += f", {start:%H:%M}–{end:%H:%M} UTC"
    if facts.duration_minutes:
        sentence += f", {facts.duration_minutes} minutes"
    sentence += "."
    if facts.suggested_cpt_code:
        sentence += f" Suggested CPT code: {facts.suggested_cpt_code}."
    return sentence


# Below this much face-to-face time no psychotherapy code applies.
BILLABLE_MINUTES = 16
CPT_NOTE = "suggestion; confirm before billing"


def session_lines(facts: SessionFacts) -> list[str]:
    """The note's Session section, line by line: date, times, duration, modality and
    the suggested CPT code, all from the facts the transcriber computed."""
    start = _start(facts)
    end = _when(facts.actual_end) or _when(facts.scheduled_end)
    lines = [f"Date: {start.date().isoformat() if start else 'not recorded'}"]
    if start and end:
        lines.append(f"Time: {start:%H:%M}–{end:%H:%M} UTC")
    elif start:
        lines.append(f"Time: from {start:%H:%M} UTC")
    if facts.duration_minutes:
        lines.append(f"Duration: {facts.duration_minutes} minutes")
    else:
        lines.append("Duration: not recorded")
    lines.append(f"Modality: {_MODALITIES.get(facts.modality, 'not recorded')}")
    lines.append(f"Suggested CPT code: {_cpt(facts)}")
    return lines


def _cpt(facts: SessionFacts) -> str:
    if facts.suggested_cpt_code:
        return f"{facts.suggested_cpt_code} ({CPT_NOTE})"
    if 0 < facts.duration_minutes < BILLABLE_MINUTES:
        return (
            f"none – under {BILLABLE_MINUTES} minutes, "
            "not billable as a psychotherapy session"
        )
    if not facts.duration_minutes:
        return "none suggested (duration not recorded)"
    return "none suggested"
