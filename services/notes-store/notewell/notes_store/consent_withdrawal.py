"""Taking in consent.withdrawn: a client withdrew consent to transcription after the
session, so every draft of that session for that clinician is discarded.

Drafts are not yet part of the record; a signed note is, and stays. Each discarded
draft keeps its ids, status and audit trail, like one thrown away with DiscardNote, and
gets its ``discarded`` entry in the same update. A redelivered event finds no drafts
left and changes nothing.

The session is also remembered (ids only) in ``withdrawn_sessions``, so a draft of it
that draft.created delivers afterwards is discarded as soon as it is stored.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.events.v1.events_pb2 import ConsentWithdrawn
from notewell.notes_store import audit
from notewell.notes_store.note_records import NoteRecords
from notewell.platform import events
from notewell.platform.events import InvalidEvent
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger

log = get_logger(__name__)

REQUIRED_IDS = ("event_id", "session_id", "clinician_id", "client_id")
ACTOR = "service:consent-withdrawal"

Document = dict[str, object]


class Withdrawals:
    """The sessions whose consent was withdrawn, and discarding their drafts."""

    def __init__(
        self, collection: AsyncCollection[dict[str, object]], records: NoteRecords
    ) -> None:
        self._collection = collection
        self._records = records

    async def remember(self, clinician_id: str, session_id: str, at: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one(
                {
                    "_id": _key(clinician_id, session_id),
                    "clinician_id": clinician_id,
                    "session_id": session_id,
                    "withdrawn_at": at,
                }
            )

    async def withdrawn(self, clinician_id: str, session_id: str) -> bool:
        doc = await self._collection.find_one(
            {"_id": _key(clinician_id, session_id)}, {"_id": 1}
        )
        return doc is not None

    async def discard_drafts(self, clinician_id: str, session_id: str) -> list[str]:
        def entry(note_id: str, version: int) -> dict[str, object]:
            # One discard per note ever, so the entry id is the note's own.
            return audit.queued(
                ACTOR,
                audit.DISCARDED,
                events.CONSENT_WITHDRAWN,
                note_id,
                version,
                entry_id=f"{note_id}:discarded",
            )

        return await self._records.discard_session_drafts(
            clinician_id, session_id, datetime.now(UTC), entry
        )


class ConsentWithdrawal:
    """The consent.withdrawn handler."""

    def __init__(self, withdrawals: Withdrawals) -> None:
        self._withdrawals = withdrawals

    async def __call__(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, ConsentWithdrawn)
        missing = [name for name in REQUIRED_IDS if not getattr(event, name).strip()]
        if missing:
            reason = "empty required field(s): " + ", ".join(missing)
            raise InvalidEvent("missing_field", reason)

        # Remembered first: a draft stored after this checks for it, and one stored
        # before is found below.
        await self._withdrawals.remember(
            event.clinician_id, event.session_id, datetime.now(UTC)
        )
        discarded = await self._withdrawals.discard_drafts(
            event.clinician_id, event.session_id
        )
        log.info(
            "consent_withdrawn_drafts_discarded",
            extra={
                "session_id": event.session_id,
                "event_id": event.event_id,
                "discarded": len(discarded),
            },
        )


def _key(clinician_id: str, session_id: str) -> str:
    return f"{clinician_id}:{session_id}"
