"""A running notes store on the real servers, and a harness that plays the drafter, the
clinician's editor and a note.saved reader against it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import grpc
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from google.protobuf.message import Message

from notewell.common.v1.common_pb2 import Modality, SessionFacts
from notewell.events.v1.events_pb2 import DraftCreated
from notewell.notes.v1.note_pb2 import Evidence, Note, NoteOrigin, NoteSection, NoteStatus
from notewell.notes.v1.notes_store_pb2 import GetNoteRequest
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings
from notewell.platform import auth, events
from notewell.platform.clients import mongo_client
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher
from notewell.platform.keyring import Keyring

T = TypeVar("T")

# Distinctive note content: finding either anywhere in clear is a leak.
SECRET_TITLE = "Marmalade lighthouse session"
SECRET_TEXT = "Client described the tangerine lighthouse keeper dream again"
DEADLINE_SECONDS = 30.0


def section(key: str, text: str) -> NoteSection:
    return NoteSection(
        key=key,
        title=key.capitalize(),
        text=text,
        evidence=Evidence(utterance_ids=["u0", "u3"]),
    )


async def eventually(attempt: Callable[[], Awaitable[T | None]], failure: str) -> T:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        outcome = await attempt()
        if outcome is not None:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(failure)
        await asyncio.sleep(0.2)


class Harness:
    """Drives one notes store the way the rest of the pipeline and the editor do."""

    SECRET_TITLE = SECRET_TITLE
    SECRET_TEXT = SECRET_TEXT
    section = staticmethod(section)
    eventually = staticmethod(eventually)

    def __init__(self, settings: Settings, stub: NotesStoreStub) -> None:
        self.settings = settings
        self.notes = stub
        self.sealer = Sealer(master_key_from_settings(settings))
        self.publisher = EventPublisher(settings)
        self.mongo = mongo_client(settings)
        self.database = self.mongo[settings.mongodb_database]
        self.collection = self.database["notes"]
        # Opens what the store sealed with the clinicians' own data keys.
        self.keyring = Keyring(
            self.database["data_keys"], master_key_from_settings(settings)
        )
        self.drafts_topic = settings.topic(events.DRAFT_CREATED)
        self.saved_topic = settings.topic(events.NOTE_SAVED)

    def as_clinician(self, clinician_id: str) -> tuple[tuple[str, str], ...]:
        return auth.bearer(auth.mint_token(self.settings, clinician_id))

    def draft(
        self,
        clinician_id: str,
        client_id: str,
        actual_start: datetime | None = None,
        text: str = SECRET_TEXT,
    ) -> tuple[DraftCreated, Note]:
        """A draft.created event as the drafter publishes it, and the note inside it."""
        session_id = "s-" + uuid.uuid4().hex[:10]
        start = actual_start or datetime(2025, 3, 4, 15, 0, tzinfo=UTC)
        facts = SessionFacts(
            duration_minutes=50,
            modality=Modality.MODALITY_TELEHEALTH,
            suggested_cpt_code="90834",
        )
        facts.actual_start.FromDatetime(start)
        facts.actual_end.FromDatetime(start + timedelta(minutes=50))
        note = Note(
            note_id="n-" + uuid.uuid4().hex[:10],
            session_id=session_id,
            clinician_id=clinician_id,
            client_id=client_id,
            format="SOAP",
            status=NoteStatus.NOTE_STATUS_DRAFT,
            origin=NoteOrigin.NOTE_ORIGIN_AI_DRAFT,
            title=SECRET_TITLE,
            sections=[section("subjective", text), section("plan", "Weekly sessions.")],
            session=facts,
            version=1,
        )
        note.created_at.FromDatetime(datetime.now(UTC))
        note.updated_at.CopyFrom(note.created_at)
        event = DraftCreated(
            event_id=events.new_event_id(),
            session_id=session_id,
            clinician_id=clinician_id,
            client_id=client_id,
            draft_id=note.note_id,
            note=self.sealer.seal(note, context=session_id),
            occurred_at=events.now_timestamp(),
        )
        return event, note

    async def publish_draft(self, event: Message, key: str) -> None:
        await self.publisher.publish(self.drafts_topic, key, event)

    async def wait_for_note(self, clinician_id: str, note_id: str) -> Note:
        """The note once the store has taken it in; fails after the deadline."""

        async def attempt() -> Note | None:
            try:
                return await self.notes.GetNote(
                    GetNoteRequest(note_id=note_id),
                    metadata=self.as_clinician(clinician_id),
                )
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.NOT_FOUND:
                    raise
                return None

        return await eventually(attempt, f"note {note_id} never appeared")

    async def wait_until_relayed(self, note_id: str) -> None:
        """Waits until the note's outbox is empty: its events are on the broker."""

        async def attempt() -> bool | None:
            doc = await self.collection.find_one({"_id": note_id})
            assert doc is not None
            drained = not doc.get("outbox_pending") and not doc.get("outbox")
            return True if drained else None

        await eventually(attempt, f"outbox of note {note_id} never drained")

    async def read_topic(self, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
        """Every record on ``topic`` now, from the beginning of each partition."""
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            await consumer.topics()
            numbers = consumer.partitions_for_topic(topic) or set()
            partitions = [TopicPartition(topic, p) for p in sorted(numbers)]
            assert partitions, f"topic {topic} does not exist"
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            records: list[ConsumerRecord[bytes, bytes]] = []
            deadline = time.monotonic() + DEADLINE_SECONDS
            while True:
                positions = {tp: await consumer.position(tp) for tp in partitions}
                if all(positions[tp] >= ends[tp] for tp in partitions):
                    return records
                assert time.monotonic() < deadline, f"could not read {topic} to its end"
                batches = await consumer.getmany(timeout_ms=500)
                for batch in batches.values():
                    records.extend(batch)
        finally:
            await consumer.stop()

    async def wait_for_records(self, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
        async def attempt() -> list[ConsumerRecord[bytes, bytes]] | None:
            return await self.read_topic(topic) or None

        return await eventually(attempt, f"nothing arrived on {topic}")

    async def close(self) -> None:
        await self.publisher.stop()
        await self.mongo.close()


@pytest.fixture
def settings(service_env: dict[str, str]) -> Settings:
    return Settings(**service_env)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[NotesStoreApp]:
    store = NotesStoreApp(settings)
    await store.start()
    try:
        yield store
    finally:
        await store.stop()


@pytest.fixture
async def harness(settings: Settings, app: NotesStoreApp) -> AsyncIterator[Harness]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
        h = Harness(settings, NotesStoreStub(channel))
        await h.publisher.start()
        try:
            yield h
        finally:
            await h.close()


@pytest.fixture
def harness_class() -> type[Harness]:
    """For tests that run the store as a process of their own instead of ``app``."""
    return Harness
