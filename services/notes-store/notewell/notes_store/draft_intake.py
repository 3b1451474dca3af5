"""Taking in the drafter's drafts from draft.created.

Each draft becomes the clinician's draft note under its draft id, so a redelivered event
finds the note already there and changes nothing, even after the clinician edited it.
The note arrives sealed for the session with an event key and is stored sealed with the
clinician's own data key.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from google.protobuf.message import DecodeError

from notewell.events.v1.events_pb2 import DraftCreated
from notewell.notes.v1.note_pb2 import Note, NoteOrigin, NoteStatus, NoteType
from notewell.notes_store import audit
from notewell.notes_store.audit import AuditTrail
from notewell.notes_store.consent_withdrawal import Withdrawals
from notewell.notes_store.note_records import NoteRecords
from notewell.platform import events
from notewell.platform.crypto import DecryptionError, Sealer
from notewell.platform.events import InvalidEvent
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger

log = get_logger(__name__)

REQUIRED_IDS = ("event_id", "session_id", "clinician_id", "client_id", "draft_id")
ACTOR = "service:drafter"


class DraftIntake:
    """The draft.created handler."""

    def __init__(
        self,
        records: NoteRecords,
        trail: AuditTrail,
        sealer: Sealer,
        withdrawals: Withdrawals,
    ) -> None:
        self._records = records
        self._trail = trail
        self._sealer = sealer
        self._withdrawals = withdrawals

    async def __call__(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, DraftCreated)
        missing = [name for name in REQUIRED_IDS if not getattr(event, name).strip()]
        if missing:
            reason = "empty required field(s): " + ", ".join(missing)
            raise InvalidEvent("missing_field", reason)
        if not event.HasField("note"):
            raise InvalidEvent("missing_field", "note is not set")

        try:
            note = await asyncio.to_thread(
                self._sealer.open, event.note, Note, event.session_id
            )
        except (DecryptionError, DecodeError):
            raise InvalidEvent("unreadable_note", "note could not be opened") from None

        draft = as_draft(event, note)
        ids = {"session_id": draft.session_id, "note_id": draft.note_id}
        entry_id = f"{draft.note_id}:created"
        args = (ACTOR, audit.CREATED, events.DRAFT_CREATED, draft.note_id, draft.version)
        # The entry is queued in the same insert as the draft; a redelivery stores
        # neither again.
        stored = await self._records.add(draft, audit.queued(*args, entry_id=entry_id))
        log.info("draft_stored" if stored else "draft_already_stored", extra=ids)
        # Checked after storing: a withdrawal remembered before this sees the draft
        # stored, or the draft sees the withdrawal here.
        if await self._withdrawals.withdrawn(draft.clinician_id, draft.session_id):
            discarded = await self._withdrawals.discard_drafts(
                draft.clinician_id, draft.session_id
            )
            log.info(
                "draft_of_withdrawn_session_discarded",
                extra={**ids, "discarded": len(discarded)},
            )


def as_draft(event: DraftCreated, note: Note) -> Note:
    """The note as the store keeps a new draft: ids from the event (a sealed note that
    names other ids is refused), status DRAFT, unsigned, version and dates filled in."""
    draft = Note()
    draft.CopyFrom(note)
    if not draft.note_id:
        draft.note_id = event.draft_id
    elif draft.note_id != event.draft_id:
        raise InvalidEvent("mismatched_ids", "note_id differs from draft_id")
    for name in ("session_id", "clinician_id", "client_id"):
        value = getattr(draft, name)
        if value and value != getattr(event, name):
            reason = f"the note's {name} differs from the event's"
            raise InvalidEvent("mismatched_ids", reason)
        setattr(draft, name, getattr(event, name))

    draft.status = NoteStatus.NOTE_STATUS_DRAFT
    draft.ClearField("signature")
    del draft.addenda[:]
    draft.author_id = draft.clinician_id
    if draft.note_type == NoteType.NOTE_TYPE_UNSPECIFIED:
        draft.note_type = NoteType.NOTE_TYPE_PROGRESS
    if draft.origin == NoteOrigin.NOTE_ORIGIN_UNSPECIFIED:
        draft.origin = NoteOrigin.NOTE_ORIGIN_AI_DRAFT
    draft.version = max(draft.version, 1)
    if not draft.HasField("created_at"):
        if event.HasField("occurred_at"):
            draft.created_at.CopyFrom(event.occurred_at)
        else:
            draft.created_at.FromDatetime(datetime.now(UTC))
    if not draft.HasField("updated_at"):
        draft.updated_at.CopyFrom(draft.created_at)
    if not draft.HasField("date_of_service"):
        if draft.session.HasField("actual_start"):
            draft.date_of_service.CopyFrom(draft.session.actual_start)
        else:
            draft.date_of_service.CopyFrom(draft.created_at)
    return draft
