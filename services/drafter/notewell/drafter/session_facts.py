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
