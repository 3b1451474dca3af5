"""The ``audit`` collection: an append-only trail of who did what to which note.

Entries hold ids, an action, the gRPC method or topic it came through, the note's
version and a time; never content. The store only ever inserts into this collection.

A change's entry is written in the same atomic update as the change itself: it is
queued in the note's document under ``audit_pending.<entry_id>`` (raising
``audit_queued`` and incrementing ``audit_seq``), and the ``AuditRelay`` copies it into
the collection under ``_id = entry_id`` and then removes it from the note. Copying is
idempotent, so a relay that dies between the two steps copies nothing twice. Reads have
no change to ride along with and are inserted directly; a listing is one entry naming
every note it returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.notes.v1.notes_store_pb2 import AuditEvent
from notewell.platform.logs import get_logger
from notewell.platform.outbox import PollingRelay

log = get_logger(__name__)

Document = dict[str, Any]

CREATED = "created"
READ = "read"
CHANGED = "changed"
SIGNED = "signed"
ADDENDUM_ADDED = "addendum_added"
DISCARDED = "discarded"


def queued(
    actor_id: str,
    action: str,
    method: str,
    note_id: str,
    version: int,
    entry_id: str | None = None,
) -> Document:
    """``$set`` fields that queue one entry in the note's document. Combine with
    ``{"$inc": {"audit_seq": 1}}`` in the same update."""
    entry = _entry(actor_id, action, method, note_id, version, datetime.now(UTC))
    key = entry.pop("_id") if entry_id is None else entry_id
    entry.pop("_id", None)
    return {f"audit_pending.{key}": entry, "audit_queued": True}


def queued_document(fields: Mapping[str, Any]) -> Document:
    """The fields of a new note document whose insert also queues ``fields`` (as
    ``queued`` returns them)."""
    pending = {
        name.split(".", 1)[1]: value
        for name, value in fields.items()
        if name.startswith("audit_pending.")
    }
    return {"audit_pending": pending, "audit_queued": True, "audit_seq": 1}


class AuditTrail:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("note_id", ASCENDING), ("at", ASCENDING)])
        await self._collection.create_index([("note_ids", ASCENDING)])

    async def record(
        self,
        actor_id: str,
        action: str,
        method: str,
        note_id: str,
        version: int,
        entry_id: str | None = None,
    ) -> None:
        """One entry, inserted now. With ``entry_id`` recording is idempotent: an entry
        of that id already there is kept."""
        entry = _entry(actor_id, action, method, note_id, version, datetime.now(UTC))
        if entry_id is not None:
            entry["_id"] = entry_id
        await self.copy(entry)

    async def copy(self, entry: Document) -> bool:
        """Inserts ``entry`` under its ``_id``; False when it is there already."""
        try:
            await self._collection.insert_one(entry)
        except DuplicateKeyError:
            return False
        return True

    async def record_listing(
        self, actor_id: str, method: str, notes: Iterable[tuple[str, int]]
    ) -> None:
        """One read entry for a listing, naming every (note id, version) it returned."""
        listed = list(notes)
        if not listed:
            return
        await self._collection.insert_one(
            {
                "_id": uuid.uuid4().hex,
                "note_ids": [note_id for note_id, _ in listed],
                "versions": [version for _, version in listed],
                "actor_id": actor_id,
                "action": READ,
                "method": method,
                "at": datetime.now(UTC),
            }
        )

    async def of_note(
        self, note_id: str, pending: Mapping[str, Document] | None = None
    ) -> list[AuditEvent]:
        """The note's trail, oldest first: its entries, the listings that returned it,
        and ``pending`` entries still queued in its document (read that document
        before calling, so an entry copied meanwhile is found here instead)."""
        docs: dict[str, Document] = {
            entry_id: {**entry, "_id": entry_id}
            for entry_id, entry in (pending or {}).items()
        }
        cursor = self._collection.find(
            {"$or": [{"note_id": note_id}, {"note_ids": note_id}]}
        )
        async for doc in cursor:
            docs[str(doc["_id"])] = doc
        ordered = sorted(docs.values(), key=lambda d: (_aware(d["at"]), str(d["_id"])))
        return [_event(doc, note_id) for doc in ordered]


class AuditRelay(PollingRelay):
    """Copies the entries queued in note documents into the audit collection."""

    def __init__(
        self,
        notes: AsyncCollection[Document],
        trail: AuditTrail,
        poll_seconds: float = 0.2,
    ) -> None:
        self._notes = notes
        self._trail = trail
        super().__init__(poll_seconds)

    async def ensure_indexes(self) -> None:
        await self._notes.create_index("audit_queued")

    async def relay_once(self, limit: int = 100) -> int:
        """Copies what is queued now; returns how many entries were handled."""
        count = 0
        cursor = self._notes.find(
            {"audit_queued": True}, {"audit_pending": 1, "audit_seq": 1}
        ).limit(limit)
        async for doc in cursor:
            for entry_id, entry in (doc.get("audit_pending") or {}).items():
                await self._trail.copy({**entry, "_id": entry_id})
                await self._notes.update_one(
                    {"_id": doc["_id"]}, {"$unset": {f"audit_pending.{entry_id}": ""}}
                )
                count += 1
            # Lowered only if no writer queued another entry meanwhile.
            await self._notes.update_one(
                {"_id": doc["_id"], "audit_seq": doc.get("audit_seq")},
                {"$set": {"audit_queued": False}},
            )
        return count


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


def _event(doc: Document, note_id: str) -> AuditEvent:
    version = int(doc.get("version", 0))
    if "note_ids" in doc:
        # A listing: the version of this note it returned.
        versions = doc.get("versions") or []
        index = list(doc["note_ids"]).index(note_id)
        version = int(versions[index]) if index < len(versions) else 0
    event = AuditEvent(
        event_id=str(doc["_id"]),
        note_id=note_id,
        actor_id=doc["actor_id"],
        action=doc["action"],
        method=doc["method"],
        version=version,
    )
    event.occurred_at.FromDatetime(_aware(doc["at"]))
    return event


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
