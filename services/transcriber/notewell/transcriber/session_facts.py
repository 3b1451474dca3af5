"""Facts every note states about its session, computed from the session's times.

Pure functions: no I/O, so the billing boundaries are easy to test exactly.
"""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import SessionFacts
from notewell.events.v1.events_pb2 import SessionEnded

# Psychotherapy codes by face-to-face minutes (first minute of each band).
CPT_BANDS: tuple[tuple[int, str], ...] = (
    (53, "90837"),
    (38, "90834"),
    (16, "90832"),
)


def duration_minutes(start: Timestamp, end: Timestamp) -> int:
    """Whole minutes between two instants, rounded with Python's ``round``."""
    seconds = (end.seconds - start.seconds) + (end.nanos - start.nanos) / 1e9
    return round(seconds / 60)


def suggested_cpt_code(minutes: int) -> str:
    """The psychotherapy CPT code for a session length; "" when under 16 minutes."""
    for first_minute, code in CPT_BANDS:
        if minutes >= first_minute:
            return code
    return ""


def session_facts(event: SessionEnded) -> SessionFacts:
    """The facts of a validated session: its times copied, its length and its code."""
    minutes = duration_minutes(event.actual_start, event.actual_end)
    facts = SessionFacts(
        duration_minutes=minutes,
        modality=event.modality,
        suggested_cpt_code=suggested_cpt_code(minutes),
    )
    for name in ("scheduled_start", "scheduled_end", "actual_start", "actual_end"):
        if event.HasField(name):
            getattr(facts, name).CopyFrom(getattr(event, name))
    return facts
