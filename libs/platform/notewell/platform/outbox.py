"""A document-level transactional outbox.

An event to publish is written into the same document as the change that caused it, in
one atomic update, under ``outbox.<event_id>``; the document's ``outbox_pending`` flag is
raised and ``outbox_seq`` incremented. The relay polls for pending documents, publishes
their events in the order they were written, removes each one once the broker has
acknowledged it, and lowers the flag only if no writer added another event meanwhile.
Publishing is at least once; consumers are idempotent on event ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from google.protobuf.message import Message
from pymongo.asynchronous.collection import AsyncCollection

from notewell.platform import events
from notewell.platform.kafka import EventPublisher
from notewell.platform.logs import get_logger

log = get_logger(__name__)


def outbox_fields(topic: str, key: str, event: Message) -> dict[str, Any]:
    """``$set`` fields (or insert fields) that queue ``event`` in a document's outbox.

    Combine with ``{"$inc": {"outbox_seq": 1}}`` on updates; inserts set it to 1.
    """
    value, headers = events.encode(event)
    event_id = headers.get("event-id") or events.new_event_id()
    entry = {
        "topic": topic,
        "key": key,
        "value": value,
        "headers": headers,
        "queued_at": time.time(),
    }
    return {f"outbox.{event_id}": entry, "outbox_pending": True}


def outbox_document(topic: str, key: str, event: Message) -> dict[str, Any]:
    """Fields for a new document whose insert also queues ``event``."""
    fields = outbox_fields(topic, key, event)
    event_id = next(k.split(".", 1)[1] for k in fields if k.startswith("outbox."))
    return {
        "outbox": {event_id: fields[f"outbox.{event_id}"]},
        "outbox_pending": True,
        "outbox_seq": 1,
    }


class PollingRelay:
    """Calls ``relay_once`` until stopped, pausing ``poll_seconds`` whenever a round
    found nothing to do. Subclasses implement ``relay_once``."""

    def __init__(self, poll_seconds: float = 0.2) -> None:
        self._poll_seconds = poll_seconds
        self._stopping = asyncio.Event()

    async def relay_once(self, limit: int = 100) -> int:
        raise NotImplementedError

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                handled = await self.relay_once()
            except Exception as exc:
                log.error(
                    "relay_failed",
                    extra={
                        "relay": type(self).__name__,
                        "error_type": type(exc).__name__,
                    },
                )
                handled = 0
            if handled == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), self._poll_seconds)

    def stop(self) -> None:
        self._stopping.set()


class OutboxRelay(PollingRelay):
    """Publishes the outbox events of one collection."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        publisher: EventPublisher,
        poll_seconds: float = 0.2,
    ) -> None:
        self._collection = collection
        self._publisher = publisher
        super().__init__(poll_seconds)

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("outbox_pending")

    async def relay_once(self, limit: int = 100) -> int:
        """Publishes what is pending now; returns how many events went out."""
        count = 0
        cursor = self._collection.find(
            {"outbox_pending": True}, {"outbox": 1, "outbox_seq": 1}
        ).limit(limit)
        async for doc in cursor:
            entries = sorted(
                (doc.get("outbox") or {}).items(), key=lambda item: item[1]["queued_at"]
            )
            for event_id, entry in entries:
                await self._publisher.publish_raw(
                    entry["topic"], entry["key"], bytes(entry["value"]), entry["headers"]
                )
                await self._collection.update_one(
                    {"_id": doc["_id"]}, {"$unset": {f"outbox.{event_id}": ""}}
                )
                count += 1
                log.info(
                    "outbox_event_published",
                    extra={"topic": entry["topic"], "event_id": event_id},
                )
            await self._collection.update_one(
                {"_id": doc["_id"], "outbox_seq": doc.get("outbox_seq")},
                {"$set": {"outbox_pending": False}},
            )
        return count
