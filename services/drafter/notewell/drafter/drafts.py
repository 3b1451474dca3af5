"""The drafts collection: one document per session, written once with its event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.events.v1.events_pb2 import DraftCreated
from notewell.platform.outbox import outbox_document

COLLECTION = "drafts"


class Drafts:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def exists(self, session_id: str) -> bool:
        found = await self._collection.find_one({"_id": session_id}, {"_id": 1})
        return found is not None

    async def add(
        self, event: DraftCreated, topic: str, created_at: datetime, fallback: bool
    ) -> bool:
        """Stores the draft and queues ``event`` in one insert. False when the session
        already has a draft (nothing is written then)."""
        document = {
            "_id": event.session_id,
            "draft_id": event.draft_id,
            "clinician_id": event.clinician_id,
            "client_id": event.client_id,
            "note": event.note.SerializeToString(),
            "created_at": created_at,
            "fallback": fallback,
            **outbox_document(topic, event.session_id, event),
        }
        try:
            await self._collection.insert_one(document)
        except DuplicateKeyError:
            return False
        return True
