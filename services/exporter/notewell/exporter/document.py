"""A note as its PDF shows it: every field already worded and formatted for print."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SessionFacts
from notewell.measures.v1.measures_pb2 import MeasureSummary
from notewell.notes.v1.note_pb2 import Note, NoteStatus
from notewell.notes.v1.note_pb2 import Signature as NoteSignature

NOT_RECORDED = "Not recorded"
NOT_JUDGED = "Not judged"
# Printed where a comparison has nothing to compare with.
NO_VALUE = "-"

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
    # Name with credentials, e.g. "Dana Reyes, LCSW".
    signer: str
    signed_at: str


@dataclass(frozen=True)
class MeasureRow:
    instrument: str
    # "14 / 27", or the bare score when the instrument's maximum is unknown.
    score: str
    severity: str
    date: str
    since_previous: str
    since_baseline: str
    reliable_change: str
    # How many administrations the figures rest on.
    count: int


@dataclass(frozen=True)
class AddendumBlock:
    number: int
    text: str
    # None for an addendum that carries no signature.
    signature: Signature | None


@dataclass(frozen=True)
class NoteDocument:
    note_id: str
    version: int
    title: str
    note_format: str
    practice_name: str | None
    # Name with credentials, or the clinician id when the note names nobody.
    clinician: str
    client_name: str | None
    client_date_of_birth: str | None
    # The practice's identifier for the client, or the client id without one.
    client_identifier: str
    diagnoses: tuple[str, ...]
    date_of_service: str
    start_time: str
    stop_time: str
    duration: str
    modality: str
    # None when no code was suggested (sessions under 16 minutes).
    cpt_code: str | None
    # True until the note is signed: the code is the session's suggestion, not yet
    # confirmed by the clinician.
    cpt_code_suggested: bool
    sections: tuple[Section, ...]
    measures: tuple[MeasureRow, ...]
    item_flags: tuple[str, ...]
    addenda: tuple[AddendumBlock, ...]
    # None while the note is a draft, which is not part of the record.
    signature: Signature | None
    extractive_fallback: bool
    time_zone: str

    @property
    def running_head(self) -> str:
        """Who the note is about, as every page's margin names them."""
        if self.client_name:
            return f"{self.client_name} \u00b7 Client ID {self.client_identifier}"
        return f"Client ID {self.client_identifier}"


def note_document(note: Note, zone: ZoneInfo) -> NoteDocument:
    """What the PDF of ``note`` says, with times printed in ``zone``."""
    facts = note.session if note.HasField("session") else None
    start = _session_bound(facts, "actual_start", "scheduled_start", zone)
    stop = _session_bound(facts, "actual_end", "scheduled_end", zone)
    header = note.header
    signed = note.status == NoteStatus.NOTE_STATUS_SIGNED
    clinician = _with_credentials(header.clinician_name, header.clinician_credentials)
    served = start or (
        _local(note.date_of_service, zone) if note.HasField("date_of_service") else None
    )

    return NoteDocument(
        note_id=note.note_id,
        version=note.version,
        title=note.title or "Progress note",
        note_format=note.format,
        practice_name=header.practice_name.strip() or None,
        clinician=clinician or note.clinician_id,
        client_name=header.client_name.strip() or None,
        client_date_of_birth=header.client_date_of_birth.strip() or None,
        client_identifier=header.client_identifier.strip() or note.client_id,
        diagnoses=tuple(d.strip() for d in header.diagnoses if d.strip()),
        date_of_service=served.strftime("%Y-%m-%d") if served else NOT_RECORDED,
        start_time=start.strftime("%H:%M") if start else NOT_RECORDED,
        stop_time=stop.strftime("%H:%M") if stop else NOT_RECORDED,
        duration=_duration(facts),
        modality=_MODALITIES.get(facts.modality, NOT_RECORDED) if facts else NOT_RECORDED,
        cpt_code=(facts.suggested_cpt_code or None) if facts else None,
        cpt_code_suggested=not signed,
        sections=tuple(
            Section(title=s.title or s.key.replace("_", " ").capitalize(), text=s.text)
            for s in note.sections
        ),
        measures=tuple(_measure_row(m, zone) for m in note.measures),
        item_flags=tuple(flag for m in note.measures for flag in m.item_flags),
        addenda=tuple(
            AddendumBlock(
                number=n,
                text=a.text,
                signature=_signature(
                    a.signature,
                    clinician if a.author_id == note.clinician_id else "",
                    a.author_id,
                    zone,
                )
                if a.HasField("signature")
                else None,
            )
            for n, a in enumerate(note.addenda, start=1)
        ),
        signature=_signature(note.signature, clinician, note.clinician_id, zone)
        if signed
        else None,
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


def _with_credentials(name: str, credentials: str) -> str:
    name, credentials = name.strip(), credentials.strip()
    if name and credentials:
        return f"{name}, {credentials}"
    return name


def _signature(
    signature: NoteSignature, known_name: str, author_id: str, zone: ZoneInfo
) -> Signature:
    # The name captured at signing is what the record shows. Without it, the name the
    # note's header gives the signer; failing that, the signer's id.
    signer = (
        _with_credentials(signature.signer_name, signature.signer_credentials)
        or known_name
        or signature.signed_by
        or author_id
        or NOT_RECORDED
    )
    signed_at = (
        _local(signature.signed_at, zone).strftime("%Y-%m-%d %H:%M")
        if signature.HasField("signed_at")
        else NOT_RECORDED
    )
    return Signature(signer=signer, signed_at=signed_at)


def _measure_row(measure: MeasureSummary, zone: ZoneInfo) -> MeasureRow:
    score = (
        f"{measure.latest_score} / {measure.max_score}"
        if measure.max_score > 0
        else str(measure.latest_score)
    )
    since_baseline = NO_VALUE
    if measure.has_baseline:
        since_baseline = _change(measure.change_since_baseline)
        if measure.HasField("baseline_at"):
            since_baseline += f" (since {_day(measure.baseline_at, zone)})"
    return MeasureRow(
        instrument=measure.instrument or NOT_RECORDED,
        score=score,
        severity=measure.severity or NO_VALUE,
        date=_day(measure.latest_at, zone)
        if measure.HasField("latest_at")
        else NOT_RECORDED,
        since_previous=_change(measure.change_since_previous)
        if measure.has_previous
        else NO_VALUE,
        since_baseline=since_baseline,
        reliable_change=measure.reliable_change or NOT_JUDGED,
        count=measure.count,
    )


def _change(points: int) -> str:
    return f"+{points}" if points > 0 else str(points)


def _day(ts: Timestamp, zone: ZoneInfo) -> str:
    return _local(ts, zone).strftime("%Y-%m-%d")


def _local(ts: Timestamp, zone: ZoneInfo) -> datetime:
    return ts.ToDatetime(tzinfo=zone)
