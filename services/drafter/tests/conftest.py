"""Fixtures for the drafter's tests: a scripted model, the app running in-process, and
helpers to publish transcript.ready events and read what comes out."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import (
    Modality,
    SessionFacts,
    SpeakerRole,
    Transcript,
    Utterance,
)
from notewell.drafter.app import DrafterApp
from notewell.drafter.settings import Settings
from notewell.events.v1.events_pb2 import DraftCreated, TranscriptReady
from notewell.notes.v1.note_pb2 import Note
from notewell.platform import events
from notewell.platform.clients import mongo_client
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher
from tests.support.scripted_llm import ScriptedLLM

M = TypeVar("M", bound=Message)

THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT

# An invented session. "gripping the table" is the phrase the privacy tests look for.
SHORT_SESSION = [
    (THERAPIST, "Good to see you again. How has the week been since we last met?"),
    (
        CLIENT,
        "Honestly it was rough. I had two panic attacks at work, one in the middle "
        "of a team meeting.",
    ),
    (
        THERAPIST,
        "That sounds frightening. What did you notice in your body when it started?",
    ),
    (
        CLIENT,
        "My chest got tight and my hands were shaking. I was sure everyone could tell.",
    ),
    (THERAPIST, "Did you try the breathing exercise we practised?"),
    (
        CLIENT,
        "I tried it the second time. It helped a little, maybe brought it down "
        "from an eight to a five.",
    ),
    (THERAPIST, "That's a real change. What made it harder the first time?"),
    (
        CLIENT,
        "I think I was too embarrassed to leave the room. I just sat there "
        "gripping the table.",
    ),
    (THERAPIST, "How has your sleep been?"),
    (
        CLIENT,
        "Not great. I wake up around four and can't get back to sleep because my "
        "mind starts racing about work.",
    ),
    (
        THERAPIST,
        "It sounds like worry about work is showing up at night as well as "
        "during the day.",
    ),
    (CLIENT, "Yes. I keep thinking my manager is going to give up on me."),
    (
        THERAPIST,
        "Let's look at that thought together. What evidence do you have for "
        "and against it?",
    ),
    (
        CLIENT,
        "Well, she did ask me to lead the next project, so maybe it's not as bad "
        "as I think.",
    ),
    (
        THERAPIST,
        "For this week, I'd like you to keep a short worry log each evening and "
        "practise the breathing twice a day. We'll review it at our next session "
        "on Thursday.",
    ),
    (CLIENT, "Okay, I can do that. I'll put a reminder on my phone."),
]


def make_transcript(turns: list[tuple[int, str]], session_id: str) -> Transcript:
    return Transcript(
        transcript_id=f"tr-{session_id}",
        session_id=session_id,
        utterances=[
            Utterance(
                id=f"u{i}",
                role=role,
                text=text,
                start_seconds=i * 20.0,
                end_seconds=i * 20.0 + 15.0,
            )
            for i, (role, text) in enumerate(turns)
        ],
    )


def _ts(iso: str) -> Timestamp:
    ts = Timestamp()
    ts.FromJsonString(iso)
    return ts


def session_facts() -> SessionFacts:
    return SessionFacts(
        scheduled_start=_ts("2025-03-04T09:00:00Z"),
        scheduled_end=_ts("2025-03-04T09:50:00Z"),
        actual_start=_ts("2025-03-04T09:02:00Z"),
        actual_end=_ts("2025-03-04T09:52:00Z"),
        duration_minutes=50,
        modality=Modality.MODALITY_TELEHEALTH,
        suggested_cpt_code="90834",
    )


def transcript_ready(
    sealer: Sealer, transcript: Transcript, session_id: str
) -> TranscriptReady:
    return TranscriptReady(
        event_id=events.new_event_id(),
        session_id=session_id,
        clinician_id="clin-7",
        client_id="client-42",
        transcript_id=transcript.transcript_id,
        session=session_facts(),
        transcript=sealer.seal(transcript, context=session_id),
        occurred_at=events.now_timestamp(),
    )


def soap_answer(
    subjective: str = "The client reported two panic attacks at work.",
    objective: str = "The client was engaged and reflective.",
    assessment: str = "Panic symptoms persist; coping skills are emerging.",
    plan: str = "Worry log each evening; breathing twice daily.",
    ids: dict[str, list[str]] | None = None,
) -> str:
    """A note as the model would answer it."""
    ids = ids or {
        "subjective": ["u1"],
        "objective": ["u7"],
        "assessment": ["u5"],
        "plan": ["u14"],
    }
    texts = {
        "subjective": subjective,
        "objective": objective,
        "assessment": assessment,
        "plan": plan,
    }
    return json.dumps(
        {
            key: {"sentences": [texts[key]], "utterance_ids": ids.get(key, [])}
            for key in texts
        }
    )


class Bus:
    """Publishes to and reads from the test's own topics, without a consumer group (no
    group join to wait for)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._publisher = EventPublisher(settings)
        self._consumers: dict[str, AIOKafkaConsumer] = {}

    async def start(self) -> None:
        await self._publisher.start()

    async def stop(self) -> None:
        for consumer in self._consumers.values():
            await consumer.stop()
        await self._publisher.stop()

    async def publish(self, name: str, key: str, event: Message) -> None:
        await self._publisher.publish(self._settings.topic(name), key, event)

    async def _consumer(self, topic: str) -> AIOKafkaConsumer:
        if topic not in self._consumers:
            consumer = AIOKafkaConsumer(
                bootstrap_servers=self._settings.kafka_bootstrap_servers,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
            )
            await consumer.start()
            partitions = await _partitions(consumer, topic)
            consumer.assign([TopicPartition(topic, p) for p in partitions])
            await consumer.seek_to_beginning()
            self._consumers[topic] = consumer
        return self._consumers[topic]

    async def read(
        self, name: str, event_type: type[M], count: int, within: float = 60.0
    ) -> list[tuple[str, M]]:
        """The next ``count`` (key, event) pairs on the topic, within ``within`` s."""
        topic = self._settings.topic(name)
        consumer = await self._consumer(topic)
        found: list[tuple[str, M]] = []
        deadline = time.monotonic() + within
        while len(found) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"{len(found)} of {count} events on {name} within {within} s"
                )
            batches = await consumer.getmany(timeout_ms=int(min(left, 1.0) * 1000))
            for records in batches.values():
                for record in records:
                    headers = events.headers_from_kafka(record.headers)
                    event = events.decode(record.value or b"", headers, event_type)
                    found.append(((record.key or b"").decode(), event))
        return found

    async def total(self, name: str) -> int:
        """How many records the topic holds now."""
        topic = self._settings.topic(name)
        consumer = await self._consumer(topic)
        partitions = [
            TopicPartition(topic, p) for p in await _partitions(consumer, topic)
        ]
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        return sum(end[p] - begin[p] for p in partitions)


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[int]:
    deadline = time.monotonic() + 20
    while True:
        await consumer._client.force_metadata_update()
        partitions = consumer.partitions_for_topic(topic)
        if partitions:
            return sorted(partitions)
        if time.monotonic() > deadline:
            raise AssertionError(f"topic {topic} has no partitions")
        await asyncio.sleep(0.2)


async def wait_for(
    condition: Callable[[], Any], within: float = 60.0, what: str = "condition"
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {within} s")
        await asyncio.sleep(0.1)


class Harness:
    """What a flow test needs: the scripted model, the running app's settings, sealing,
    the topics and the drafts collection."""

    def __init__(
        self, settings: Settings, llm: ScriptedLLM, sealer: Sealer, bus: Bus
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.sealer = sealer
        self.bus = bus
        self.soap = soap_answer

    def transcript(
        self, turns: list[tuple[int, str]] | None = None, session_id: str | None = None
    ) -> Transcript:
        return make_transcript(
            turns or SHORT_SESSION, session_id or f"sess-{uuid.uuid4().hex[:10]}"
        )

    def event(self, transcript: Transcript) -> TranscriptReady:
        return transcript_ready(self.sealer, transcript, transcript.session_id)

    async def send(self, event: TranscriptReady) -> None:
        await self.bus.publish(events.TRANSCRIPT_READY, event.session_id, event)

    async def drafts(
        self, count: int = 1, within: float = 60.0
    ) -> list[tuple[str, DraftCreated]]:
        return await self.bus.read(events.DRAFT_CREATED, DraftCreated, count, within)

    async def eventually(
        self, condition: Callable[[], Any], within: float = 60.0, what: str = "condition"
    ) -> Any:
        return await wait_for(condition, within, what)

    def open_note(self, created: DraftCreated) -> Note:
        return self.sealer.open(created.note, Note, context=created.session_id)

    async def stored_draft(self, session_id: str) -> dict[str, Any] | None:
        client = mongo_client(self.settings)
        try:
            return await client[self.settings.mongodb_database]["drafts"].find_one(
                {"_id": session_id}
            )
        finally:
            await client.close()


@pytest.fixture
def short_transcript() -> Transcript:
    return make_transcript(SHORT_SESSION, "sess-short")


@pytest.fixture
def soap() -> Callable[..., str]:
    return soap_answer


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as scripted:
        yield scripted


@pytest.fixture
def setting_overrides() -> dict[str, str]:
    """Settings a test changes, by parametrizing this fixture."""
    return {}


@pytest.fixture
def settings(
    service_env: dict[str, str], llm: ScriptedLLM, setting_overrides: dict[str, str]
) -> Settings:
    env = dict(service_env)
    env.update(
        OPENAI_BASE_URL=llm.base_url,
        LLM_MODEL="scripted-model",
        LLM_TIMEOUT_SECONDS="10",
        LLM_BACKOFF_SECONDS="0.05",
        LLM_MAX_ATTEMPTS="3",
        # Nothing listens there: drafts go on with the default preferences unless a
        # test serves a client context itself.
        NOTES_STORE_ADDRESS="127.0.0.1:1",
        # A group of its own: no rebalance waits on members of earlier tests.
        DRAFTER_GROUP_ID=f"drafter-{uuid.uuid4().hex[:8]}",
    )
    env.update(setting_overrides)
    return Settings(**env)


@pytest.fixture
def sealer(settings: Settings) -> Sealer:
    return Sealer(master_key_from_settings(settings))


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[DrafterApp]:
    drafter = DrafterApp(settings)
    await drafter.start()
    try:
        yield drafter
    finally:
        await drafter.stop()


@pytest.fixture
async def bus(settings: Settings, app: DrafterApp) -> AsyncIterator[Bus]:
    """Depends on ``app``, which creates the topics."""
    helper = Bus(settings)
    await helper.start()
    try:
        yield helper
    finally:
        await helper.stop()


@pytest.fixture
def harness(settings: Settings, llm: ScriptedLLM, sealer: Sealer, bus: Bus) -> Harness:
    return Harness(settings, llm, sealer, bus)
