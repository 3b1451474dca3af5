"""The ``notes`` collection: one document per note.

A document holds in clear only what the store must filter and sort on: ids, status,
format, origin, version and dates. Everything a clinician wrote or the session revealed
(title, sections, signature, session facts) lives only inside ``sealed_note``, a sealed
``Note`` whose context is the note id, so a box copied into another document will not
open. Sealing may reach KMS over the network, so it runs off the event loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import Note, NoteOrigin, NoteStatus
from notewell.notes_store.errors import NoteNotFound, StaleVersion
from notewell.notes_store.note_changes import check_changeable
from notewell.platform.crypto import Sealer
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

STATUS_NAMES = {
    NoteStatus.NOTE_STATUS_DRAFT: "draft",
    NoteStatus.NOTE_STATUS_SIGNED: "signed",
}
ORIGIN_NAMES = {
    NoteOrigin.NOTE_ORIGIN_UNSPECIFIED: "unspecified",
    NoteOrigin.NOTE_ORIGIN_AI_DRAFT: "ai_draft",
    NoteOrigin.NOTE_ORIGIN_CLINICIAN: "clinician",
}
_STATUS_VALUES = {name: value for value, name in STATUS_NAMES.items()}

Document = dict[str, Any]


class NoteRecords:
    """Reads and writes notes, always on behalf of one clinician."""

    def __init__(self, collection: AsyncCollection[Document], sealer: Sealer) -> None:
        self._collection = collection
        self._sealer = sealer

    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [
                ("clinician_id", ASCENDING),
                ("client_id", ASCENDING),
                ("date_of_service", DESCENDING),
            ]
        )

    async def add_draft(self, note: Note) -> bool:
        """Stores a new draft under its note id; False when it was stored before."""
        fields = await asyncio.to_thread(self._fields, note)
        try:
            await self._collection.insert_one(
                {"_id": note.note_id, **fields, "outbox_seq": 0}
            )
        except DuplicateKeyError:
            return False
        return True

    async def load(self, note_id: str, clinician_id: str) -> Note:
        doc = await self._collection.find_one(
            {"_id": note_id, "clinician_id": clinician_id}, {"sealed_note": 1}
        )
        if doc is None:
            raise NoteNotFound()
        return await asyncio.to_thread(self._open, doc)

    async def for_client(self, clinician_id: str, client_id: str) -> list[Note]:
        """The clinician's notes about one client, newest date of service first."""
        cursor = self._collection.find(
            {"clinician_id": clinician_id, "client_id": client_id}, {"sealed_note": 1}
        ).sort([("date_of_service", DESCENDING), ("_id", ASCENDING)])
        docs = [doc async for doc in cursor]
        return await asyncio.to_thread(lambda: [self._open(doc) for doc in docs])

    async def replace(
        self, before: Note, after: Note, outbox: dict[str, Any] | None = None
    ) -> Note:
        """Stores ``after`` in place of the draft ``before`` in one atomic update, with
        the given outbox fields. Of concurrent replacements of the same version exactly
        one succeeds; the others raise StaleVersion (or NoteSigned)."""
        fields = await asyncio.to_thread(self._fields, after)
        update: dict[str, Any] = {"$set": {**fields, **(outbox or {})}}
        if outbox:
            update["$inc"] = {"outbox_seq": 1}
        # update_one, not find_one_and_update: the new note is already in hand, and the
        # local wire server (jongodb) runs findAndModify as a separate read and write,
        # so two writers from the same version could both match there. A plain
        # conditional update is atomic on it as on MongoDB.
        result = await self._collection.update_one(
            {
                "_id": before.note_id,
                "clinician_id": before.clinician_id,
                "version": before.version,
                "status": STATUS_NAMES[NoteStatus.NOTE_STATUS_DRAFT],
            },
            update,
        )
        if result.matched_count != 1:
            await self._explain_conflict(before)
        return after

    async def _explain_conflict(self, before: Note) -> None:
        doc = await self._collection.find_one(
            {"_id": before.note_id, "clinician_id": before.clinician_id},
            {"status": 1, "version": 1},
        )
        if doc is None:
            raise NoteNotFound()
        status = _STATUS_VALUES.get(doc.get("status", ""), NoteStatus.NOTE_STATUS_DRAFT)
        current = Note(status=status, version=int(doc.get("version", 0)))
        check_changeable(current, before.version)
        raise StaleVersion(current.version)

    def _fields(self, note: Note) -> Document:
        box = self._sealer.seal(note, context=note.note_id)
        created_at = note.created_at.ToDatetime(tzinfo=UTC)
        if note.session.HasField("actual_start"):
            date_of_service = note.session.actual_start.ToDatetime(tzinfo=UTC)
        else:
            date_of_service = created_at
        signed_at: datetime | None = None
        if note.signature.HasField("signed_at"):
            signed_at = note.signature.signed_at.ToDatetime(tzinfo=UTC)
        return {
            "session_id": note.session_id,
            "clinician_id": note.clinician_id,
            "client_id": note.client_id,
            "status": STATUS_NAMES[note.status],
            "format": note.format,
            "origin": ORIGIN_NAMES.get(note.origin, "unspecified"),
            "version": note.version,
            "created_at": created_at,
            "updated_at": note.updated_at.ToDatetime(tzinfo=UTC),
            "date_of_service": date_of_service,
            "signed_at": signed_at,
            "sealed_note": box.SerializeToString(),
        }

    def _open(self, doc: Document) -> Note:
        box = SealedBox.FromString(bytes(doc["sealed_note"]))
        return self._sealer.open(box, Note, context=str(doc["_id"]))
