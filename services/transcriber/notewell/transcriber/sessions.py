"""The transcriber's ``sessions`` collection: one document per session, keyed by its id.

The unique ``_id`` makes every write idempotent: a redelivered session.ended finds its
session already recorded and changes nothing. A transcribed session's document carries
its transcript.ready event in its outbox, written in the same insert.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.common.v1.common_pb2 import Modality, SealedBox, SessionFacts
from notewell.events.v1.events_pb2 import SessionEnded, TranscriptReady
from notewell.platform.outbox import outbox_document

COLLECTION = "sessions"
CONSENT_DECLINED = "consent_declined"
CONSENT_WITHDRAWN = "consent_withdrawn"
TRANSCRIBED = "transcribed"


class Sessions:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def record_declined(self, event: SessionEnded) -> bool:
        """Records that the client did not consent; False if the session was known."""
        return await self._insert(
            {
                "_id": event.session_id,
                "status": CONSENT_DECLINED,
                "clinician_id": event.clinician_id,
                "client_id": event.client_id,
                "source_event_id": event.event_id,
                "received_at": datetime.now(UTC),
            }
        )

    async def record_transcribed(
        self,
        event: SessionEnded,
        facts: SessionFacts,
        sealed_transcript: SealedBox,
        ready_topic: str,
        ready: TranscriptReady,
        recording_objects: list[tuple[str, str]] | None = None,
        recording_delete_after: datetime | None = None,
    ) -> bool:
        """Stores the sealed transcript and queues ``ready`` in one insert; False if
        the session was known, in which case nothing is queued. ``recording_objects``
        are the (bucket, key) of its audio, still to be deleted."""
        document = {
            "_id": event.session_id,
            "status": TRANSCRIBED,
            "transcript_id": ready.transcript_id,
            "clinician_id": event.clinician_id,
            "client_id": event.client_id,
            "source_event_id": event.event_id,
            "transcript": sealed_transcript.SerializeToString(),
            **_facts_fields(facts),
            "created_at": datetime.now(UTC),
            "recording_objects": [list(o) for o in recording_objects or []],
            **outbox_document(ready_topic, event.session_id, ready),
        }
        if recording_delete_after is not None:
            document["recording_delete_after"] = recording_delete_after
        return await self._insert(document)

    async def known(self, session_id: str) -> bool:
        found = await self._collection.find_one({"_id": session_id}, {"_id": 1})
        return found is not None

    async def find(self, session_id: str) -> dict[str, Any] | None:
        return await self._collection.find_one({"_id": session_id})

    async def withdraw(
        self, session_id: str, clinician_id: str, client_id: str
    ) -> dict[str, Any] | None:
        """Marks the session withdrawn and deletes its transcript and any
        transcript.ready not yet relayed. Returns the document as it was (None when
        the session was unknown: the mark then stops a later session.ended)."""
        return await self._collection.find_one_and_update(
            {"_id": session_id},
            {
                "$set": {
                    "status": CONSENT_WITHDRAWN,
                    "clinician_id": clinician_id,
                    "client_id": client_id,
                    "withdrawn_at": datetime.now(UTC),
                    "outbox_pending": False,
                },
                "$unset": {"transcript": "", "outbox": ""},
            },
            upsert=True,
        )

    async def recording_deleted(self, session_id: str) -> None:
        await self._collection.find_one_and_update(
            {"_id": session_id},
            {"$unset": {"recording_objects": "", "recording_delete_after": ""}},
        )

    async def recordings_due(self, now: datetime) -> list[dict[str, Any]]:
        """Sessions whose kept audio has passed its retention period."""
        cursor = self._collection.find(
            {"recording_delete_after": {"$lte": now}},
            {"recording_objects": 1},
        ).limit(100)
        return [doc async for doc in cursor]

    async def _insert(self, document: dict[str, Any]) -> bool:
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True


def _facts_fields(facts: SessionFacts) -> dict[str, Any]:
    return {
        "scheduled_start": _datetime(facts, "scheduled_start"),
        "scheduled_end": _datetime(facts, "scheduled_end"),
        "actual_start": _datetime(facts, "actual_start"),
        "actual_end": _datetime(facts, "actual_end"),
        "duration_minutes": facts.duration_minutes,
        "modality": Modality.Name(facts.modality),
        "suggested_cpt_code": facts.suggested_cpt_code,
    }


def _datetime(facts: SessionFacts, field: str) -> datetime | None:
    if not facts.HasField(field):
        return None
    timestamp: Timestamp = getattr(facts, field)
    return timestamp.ToDatetime(tzinfo=UTC)


def facts_of(document: dict[str, Any]) -> SessionFacts:
    """The ``SessionFacts`` stored in a transcribed session's document."""
    facts = SessionFacts(
        duration_minutes=document.get("duration_minutes") or 0,
        modality=Modality.Value(document.get("modality") or "MODALITY_UNSPECIFIED"),
        suggested_cpt_code=document.get("suggested_cpt_code") or "",
    )
    for name in ("scheduled_start", "scheduled_end", "actual_start", "actual_end"):
        value = document.get(name)
        if isinstance(value, datetime):
            getattr(facts, name).FromDatetime(value.replace(tzinfo=value.tzinfo or UTC))
    return facts
