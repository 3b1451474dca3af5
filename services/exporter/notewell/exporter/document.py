"""A note as its PDF shows it: every field already worded and formatted for print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SessionFacts
from notewell.notes.v1.note_pb2 import Note, NoteStatus

NOT_RECORDED = "Not recorded"

_MODALITIES = {
    Modality.MODALITY_TELEHEALTH: "Telehealth",
    Modality.MODALITY_IN_PERSON: "In person",
}


@dataclass(frozen=True)
class Section:
    title: str
    text: str


@dataclass(frozen=True)
class Signature:
    signed_by: str
    signed_at: str


@dataclass(frozen=True)
class NoteDocument:
    note_id: str
    version: int
    title: str
    note_format: str
    clinician_id: str
    client_id: str
    date_of_service: str
    start_time: str
    stop_time: str
    duration: str
    modality: str
    # None when no code was suggested (sessions under 16 minutes).
    suggested_cpt_code: str | None
    sections: tuple[Section, ...]
    # None while the note is a draft, which is not part of the record.
    signature: Signature | None
    extractive_fallback: bool
    time_zone: str


def note_document(note: Note, zone: ZoneInfo) -> NoteDocument:
    """What the PDF of ``note`` says, with times printed in ``zone``."""
    facts = note.session if note.HasField("session") else None
    start = _session_bound(facts, "actual_start", "scheduled_start", zone)
    stop = _session_bound(facts, "actual_end", "scheduled_end", zone)

    return NoteDocument(
        note_id=note.note_id,
        version=note.version,
        title=note.title or "Progress note",
        note_format=note.format,
        clinician_id=note.clinician_id,
        client_id=note.client_id,
        date_of_service=start.strftime("%Y-%m-%d") if start else NOT_RECORDED,
        start_time=start.strftime("%H:%M") if start else NOT_RECORDED,
        stop_time=stop.strftime("%H:%M") if stop else NOT_RECORDED,
        duration=_duration(facts),
        modality=_MODALITIES.get(facts.modality, NOT_RECORDED) if facts else NOT_RECORDED,
        suggested_cpt_code=(facts.suggested_cpt_code or None) if facts else None,
        sections=tuple(
            Section(title=s.title or s.key.replace("_", " ").capitalize(), text=s.text)
            for s in note.sections
        ),
        signature=_signature(note, zone),
        extractive_fallback=note.extractive_fallback,
        time_zone=str(zone),
    )


def _session_bound(
    facts: SessionFacts | None, actual: str, scheduled: str, zone: ZoneInfo
) -> datetime | None:
    # The actual time is what happened; the scheduled one stands in when it is missing.
    if facts is None:
        return None
    for field in (actual, scheduled):
        if facts.HasField(field):
            return _local(getattr(facts, field), zone)
    return None


def _duration(facts: SessionFacts | None) -> str:
    if facts is None:
        return NOT_RECORDED
    minutes = facts.duration_minutes
    return f"{minutes} minute" if minutes == 1 else f"{minutes} minutes"


def _signature(note: Note, zone: ZoneInfo) -> Signature | None:
    if note.status != NoteStatus.NOTE_STATUS_SIGNED:
        return None
    signed_at = (
        _local(note.signature.signed_at, zone).strftime("%Y-%m-%d %H:%M")
        if note.signature.HasField("signed_at")
        else NOT_RECORDED
    )
    return Signature(
        signed_by=note.signature.signed_by or NOT_RECORDED, signed_at=signed_at
    )


def _local(ts: Timestamp, zone: ZoneInfo) -> datetime:
    return ts.ToDatetime(tzinfo=zone)
