"""The drafts collection: one document per session, written once with its event.

A session's document is either its draft (with the draft.created event queued in the
same document's outbox) or, once its client withdrew consent, a tombstone: the session
id and the time of the withdrawal, nothing else. The tombstone replaces the draft under
the same ``_id``, so the draft and its unpublished event go in the same write, and a
draft finished later cannot be inserted beside it: the unique ``_id`` makes "drafted"
and "withdrawn" two states of one document, decided by the database's duplicate-key
check rather than by a look followed by a write. That holds on jongodb too, whose
compound operations (find-and-modify, upsert) are not atomic under concurrency but
whose inserts do refuse a taken ``_id``.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.events.v1.events_pb2 import DraftCreated
from notewell.platform.outbox import outbox_document

COLLECTION = "drafts"
WITHDRAWN_AT = "consent_withdrawn_at"
# An upsert that loses a race with a draft's insert fails once with a duplicate key and
# then finds the draft; more tries than that mean something else is wrong.
WITHDRAW_ATTEMPTS = 3


class SessionState(enum.Enum):
    """What the collection holds for a session."""

    NEW = "new"
    DRAFTED = "drafted"
    WITHDRAWN = "withdrawn"


class Withdrawal(enum.Enum):
    """What recording a withdrawal changed."""

    DRAFT_REMOVED = "draft_removed"
    NO_DRAFT = "no_draft"
    ALREADY_WITHDRAWN = "already_withdrawn"


class Drafts:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def state(self, session_id: str) -> SessionState:
        found = await self._collection.find_one({"_id": session_id}, {WITHDRAWN_AT: 1})
        if found is None:
            return SessionState.NEW
        if WITHDRAWN_AT in found:
            return SessionState.WITHDRAWN
        return SessionState.DRAFTED

    async def add(
        self, event: DraftCreated, topic: str, created_at: datetime, fallback: bool
    ) -> bool:
        """Stores the draft and queues ``event`` in one insert. False when the session
        already has a draft or its consent was withdrawn (nothing is written then)."""
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

    async def withdraw(self, session_id: str, at: datetime) -> Withdrawal:
        """Replaces the session's draft, if any, with a tombstone, so its draft.created
        is never published if the relay has not sent it yet, and no later draft of the
        session is stored. A session already withdrawn keeps its first tombstone."""
        tombstone = {"_id": session_id, WITHDRAWN_AT: at}
        for _ in range(WITHDRAW_ATTEMPTS):
            try:
                result = await self._collection.replace_one(
                    {"_id": session_id, WITHDRAWN_AT: {"$exists": False}},
                    tombstone,
                    upsert=True,
                )
            except DuplicateKeyError:
                # The filter missed a taken _id: a tombstone is there already, or a
                # draft was inserted between the upsert's lookup and its insert, and
                # the next try replaces it.
                if await self.state(session_id) is SessionState.WITHDRAWN:
                    return Withdrawal.ALREADY_WITHDRAWN
                continue
            if result.matched_count:
                return Withdrawal.DRAFT_REMOVED
            return Withdrawal.NO_DRAFT
        raise RuntimeError("the withdrawal tombstone could not be written")
