"""The ``audit`` collection: an append-only trail of who did what to which note.

Entries hold ids, an action, the gRPC method or topic it came through, the note's
version and a time; never content. The store only ever inserts into this collection.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from notewell.notes.v1.notes_store_pb2 import AuditEvent
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

Document = dict[str, Any]

CREATED = "created"
READ = "read"
CHANGED = "changed"
SIGNED = "signed"
ADDENDUM_ADDED = "addendum_added"
DISCARDED = "discarded"


class AuditTrail:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("note_id", ASCENDING), ("at", ASCENDING)])

    async def record(
        self,
        actor_id: str,
        action: str,
        method: str,
        note_id: str,
        version: int,
        entry_id: str | None = None,
    ) -> None:
        """One entry. With ``entry_id`` recording is idempotent: an entry of that id
        already there is kept, as when a redelivered event is handled again."""
        if entry_id is None:
            await self.record_many(actor_id, action, method, [(note_id, version)])
            return
        entry = _entry(actor_id, action, method, note_id, version, datetime.now(UTC))
        entry["_id"] = entry_id
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one(entry)

    async def record_many(
        self, actor_id: str, action: str, method: str, notes: Iterable[tuple[str, int]]
    ) -> None:
        """One entry per (note id, version), all at the same time."""
        now = datetime.now(UTC)
        entries = [
            _entry(actor_id, action, method, note_id, version, now)
            for note_id, version in notes
        ]
        if entries:
            await self._collection.insert_many(entries, ordered=False)

    async def of_note(self, note_id: str) -> list[AuditEvent]:
        """The note's trail, oldest first."""
        cursor = self._collection.find({"note_id": note_id}).sort(
            [("at", ASCENDING), ("_id", ASCENDING)]
        )
        trail = []
        async for doc in cursor:
            event = AuditEvent(
                event_id=doc["_id"],
                note_id=doc["note_id"],
                actor_id=doc["actor_id"],
                action=doc["action"],
                method=doc["method"],
                version=int(doc.get("version", 0)),
            )
            at = doc["at"]
            event.occurred_at.FromDatetime(at if at.tzinfo else at.replace(tzinfo=UTC))
            trail.append(event)
        return trail


def _entry(
    actor_id: str, action: str, method: str, note_id: str, version: int, at: datetime
) -> Document:
    return {
        "_id": uuid.uuid4().hex,
        "note_id": note_id,
        "actor_id": actor_id,
        "action": action,
        "method": method,
        "version": version,
        "at": at,
    }
