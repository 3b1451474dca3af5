"""The ``notes`` collection: one document per note.

A document holds in clear only what the store must filter and sort on: ids, status,
type, version and dates. Everything a clinician wrote or the session revealed (title,
sections, addenda, signatures, session facts) lives only inside ``sealed_note``, a
``Note`` sealed with the clinician's own data key whose context is the note id, so a
box copied into another document will not open.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import Note, NoteStatus, NoteType
from notewell.notes.v1.notes_store_pb2 import ClientSummary
from notewell.notes_store import audit
from notewell.notes_store.errors import NoteNotFound, NoteUnreadable, StaleVersion
from notewell.platform.crypto import DecryptionError
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger

log = get_logger(__name__)

STATUS_NAMES = {
    NoteStatus.NOTE_STATUS_DRAFT: "draft",
    NoteStatus.NOTE_STATUS_SIGNED: "signed",
    NoteStatus.NOTE_STATUS_DISCARDED: "discarded",
}
TYPE_NAMES = {
    NoteType.NOTE_TYPE_UNSPECIFIED: "progress",
    NoteType.NOTE_TYPE_PROGRESS: "progress",
    NoteType.NOTE_TYPE_PSYCHOTHERAPY: "psychotherapy",
    NoteType.NOTE_TYPE_INTERIM_UPDATE: "interim_update",
}
_STATUS_VALUES = {name: value for value, name in STATUS_NAMES.items()}
PSYCHOTHERAPY = TYPE_NAMES[NoteType.NOTE_TYPE_PSYCHOTHERAPY]
DISCARDED = STATUS_NAMES[NoteStatus.NOTE_STATUS_DISCARDED]
DRAFT = STATUS_NAMES[NoteStatus.NOTE_STATUS_DRAFT]
SIGNED = STATUS_NAMES[NoteStatus.NOTE_STATUS_SIGNED]
# The note types that are part of the client's record and may inform later drafts.
RECORD_TYPES = [
    TYPE_NAMES[NoteType.NOTE_TYPE_PROGRESS],
    TYPE_NAMES[NoteType.NOTE_TYPE_INTERIM_UPDATE],
]
# A session's drafts are discarded in rounds; one per concurrent edit it ran into.
MAX_DISCARD_ROUNDS = 5

Document = dict[str, Any]
# Raises the refusal that explains why a guarded change matched nothing.
Check = Callable[[Note, int], None]


class NoteRecords:
    """Reads and writes notes, always on behalf of one clinician."""

    def __init__(self, collection: AsyncCollection[Document], keyring: Keyring) -> None:
        self._collection = collection
        self._keyring = keyring

    async def ensure_indexes(self) -> None:
        await self._collection.create_index(
            [
                ("clinician_id", ASCENDING),
                ("client_id", ASCENDING),
                ("date_of_service", DESCENDING),
            ]
        )

    async def add(self, note: Note, audit_entry: Document) -> bool:
        """Stores a new note under its note id, with its audit entry (fields from
        ``audit.queued``) queued in the same insert; False when it was stored before."""
        fields = await self._fields(note)
        try:
            await self._collection.insert_one(
                {
                    "_id": note.note_id,
                    **fields,
                    "outbox_seq": 0,
                    **audit.queued_document(audit_entry),
                }
            )
        except DuplicateKeyError:
            return False
        return True

    async def load(self, note_id: str, clinician_id: str) -> Note:
        """The clinician's note; NoteNotFound for anyone else's or a discarded one."""
        doc = await self._collection.find_one(
            {"_id": note_id, "clinician_id": clinician_id},
            {"sealed_note": 1, "status": 1},
        )
        if doc is None or doc.get("status") == DISCARDED:
            raise NoteNotFound()
        return await self._open(doc)

    async def pending_audit(
        self, note_id: str, clinician_id: str
    ) -> dict[str, Document] | None:
        """The audit entries still queued in the clinician's note (discarded ones
        included); None when the note is not theirs."""
        doc = await self._collection.find_one(
            {"_id": note_id, "clinician_id": clinician_id}, {"audit_pending": 1}
        )
        if doc is None:
            return None
        return dict(doc.get("audit_pending") or {})

    async def for_client(
        self, clinician_id: str, client_id: str, include_psychotherapy: bool
    ) -> list[Note]:
        """The clinician's notes about one client, newest date of service first.
        Notes whose data key was shredded are left out."""
        query: Document = {
            "clinician_id": clinician_id,
            "client_id": client_id,
            "status": {"$ne": DISCARDED},
        }
        if not include_psychotherapy:
            query["note_type"] = {"$ne": PSYCHOTHERAPY}
        cursor = self._collection.find(query, {"sealed_note": 1}).sort(
            [("date_of_service", DESCENDING), ("_id", ASCENDING)]
        )
        notes = []
        async for doc in cursor:
            try:
                notes.append(await self._open(doc))
            except NoteUnreadable:
                log.warning("note_unreadable", extra={"note_id": doc["_id"]})
        return notes

    async def signed_record(
        self, clinician_id: str, client_id: str, most: int, exclude_session_id: str = ""
    ) -> list[Note]:
        """Up to ``most`` of the clinician's signed progress notes and interim updates
        about one client, newest date of service first, leaving out the session
        ``exclude_session_id``. Psychotherapy notes and drafts are never among them;
        notes whose data key was shredded are left out (and not replaced)."""
        if most <= 0:
            return []
        query: Document = {
            "clinician_id": clinician_id,
            "client_id": client_id,
            "status": SIGNED,
            "note_type": {"$in": RECORD_TYPES},
        }
        if exclude_session_id:
            query["session_id"] = {"$ne": exclude_session_id}
        cursor = (
            self._collection.find(query, {"sealed_note": 1})
            .sort([("date_of_service", DESCENDING), ("_id", ASCENDING)])
            .limit(most)
        )
        notes: list[Note] = []
        async for doc in cursor:
            try:
                notes.append(await self._open(doc))
            except NoteUnreadable:
                log.warning("note_unreadable", extra={"note_id": doc["_id"]})
        return notes

    async def clients(self, clinician_id: str) -> list[ClientSummary]:
        """The clients the clinician has notes for, latest date of service first;
        psychotherapy notes and discarded drafts do not count."""
        cursor = self._collection.find(
            {
                "clinician_id": clinician_id,
                "status": {"$ne": DISCARDED},
                "note_type": {"$ne": PSYCHOTHERAPY},
            },
            {"client_id": 1, "date_of_service": 1},
        )
        latest: dict[str, datetime] = {}
        counts: dict[str, int] = {}
        async for doc in cursor:
            client_id = str(doc["client_id"])
            served = _aware(doc["date_of_service"])
            counts[client_id] = counts.get(client_id, 0) + 1
            if client_id not in latest or served > latest[client_id]:
                latest[client_id] = served
        order = sorted(latest, key=lambda c: (-latest[c].timestamp(), c))
        summaries = []
        for client_id in order:
            summary = ClientSummary(client_id=client_id, note_count=counts[client_id])
            summary.last_date_of_service.FromDatetime(latest[client_id])
            summaries.append(summary)
        return summaries

    async def replace(
        self,
        before: Note,
        after: Note,
        check: Check,
        audit_entry: Document,
        outbox: dict[str, Any] | None = None,
    ) -> Note:
        """Stores ``after`` in place of ``before`` in one atomic update, with its audit
        entry and the given outbox fields. Of concurrent replacements of the same
        version exactly one succeeds; for the others ``check`` raises why
        (StaleVersion, NoteSigned...)."""
        fields = await self._fields(after)
        update: dict[str, Any] = {
            "$set": {**fields, **audit_entry, **(outbox or {})},
            "$inc": {"audit_seq": 1},
        }
        if outbox:
            update["$inc"]["outbox_seq"] = 1
        await self._guarded(before, update, check)
        return after

    async def discard(
        self, before: Note, check: Check, now: datetime, audit_entry: Document
    ) -> None:
        """Turns the draft into a discarded stub: its content is deleted, its ids stay
        for the audit trail."""
        await self._guarded(before, _discarding(before.version, now, audit_entry), check)

    async def discard_session_drafts(
        self,
        clinician_id: str,
        session_id: str,
        now: datetime,
        audit_entry: Callable[[str, int], Document],
    ) -> list[str]:
        """Discards every draft of the clinician's session, without opening it, each
        with the audit entry ``audit_entry(note_id, new_version)`` in the same update.
        Signed notes stay. A draft edited meanwhile is found again and discarded at
        its new version. Returns the ids discarded now."""
        discarded: list[str] = []
        query = {"clinician_id": clinician_id, "session_id": session_id, "status": DRAFT}
        for _ in range(MAX_DISCARD_ROUNDS):
            drafts = [doc async for doc in self._collection.find(query, {"version": 1})]
            if not drafts:
                return discarded
            for doc in drafts:
                version = int(doc.get("version", 0))
                update = _discarding(version, now, audit_entry(doc["_id"], version + 1))
                result = await self._collection.update_one(
                    {**query, "_id": doc["_id"], "version": version}, update
                )
                if result.matched_count == 1:
                    discarded.append(str(doc["_id"]))
        raise RuntimeError("drafts kept changing while being discarded")

    async def _guarded(self, before: Note, update: Document, check: Check) -> None:
        # update_one, not find_one_and_update: the local wire server (jongodb) runs
        # findAndModify as a separate read and write, so two writers from the same
        # version could both match there. A plain conditional update is atomic on it
        # as on MongoDB.
        result = await self._collection.update_one(
            {
                "_id": before.note_id,
                "clinician_id": before.clinician_id,
                "version": before.version,
                "status": STATUS_NAMES[before.status],
            },
            update,
        )
        if result.matched_count == 1:
            return
        doc = await self._collection.find_one(
            {"_id": before.note_id, "clinician_id": before.clinician_id},
            {"status": 1, "version": 1},
        )
        if doc is None:
            raise NoteNotFound()
        status = _STATUS_VALUES.get(doc.get("status", ""), NoteStatus.NOTE_STATUS_DRAFT)
        current = Note(status=status, version=int(doc.get("version", 0)))
        check(current, before.version)
        raise StaleVersion(current.version)

    async def _fields(self, note: Note) -> Document:
        box = await self._keyring.seal(note.clinician_id, note, context=note.note_id)
        signed_at: datetime | None = None
        if note.signature.HasField("signed_at"):
            signed_at = note.signature.signed_at.ToDatetime(tzinfo=UTC)
        return {
            "session_id": note.session_id,
            "clinician_id": note.clinician_id,
            "author_id": note.author_id or note.clinician_id,
            "client_id": note.client_id,
            "status": STATUS_NAMES[note.status],
            "note_type": TYPE_NAMES[note.note_type],
            "version": note.version,
            "created_at": note.created_at.ToDatetime(tzinfo=UTC),
            "updated_at": note.updated_at.ToDatetime(tzinfo=UTC),
            "date_of_service": note.date_of_service.ToDatetime(tzinfo=UTC),
            "signed_at": signed_at,
            "sealed_note": box.SerializeToString(),
        }

    async def _open(self, doc: Document) -> Note:
        box = SealedBox.FromString(bytes(doc["sealed_note"]))
        try:
            return await self._keyring.open(box, Note, context=str(doc["_id"]))
        except DecryptionError:
            raise NoteUnreadable() from None


def _discarding(version: int, now: datetime, audit_entry: Document) -> Document:
    return {
        "$set": {
            "status": DISCARDED,
            "version": version + 1,
            "updated_at": now,
            **audit_entry,
        },
        "$unset": {"sealed_note": ""},
        "$inc": {"audit_seq": 1},
    }


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
