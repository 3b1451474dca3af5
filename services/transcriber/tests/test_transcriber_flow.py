"""The transcriber against the real servers: Kafka (Tansu), S3 (SeaweedFS) and MongoDB
(jongodb), started once per run by the root conftest."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import boto3
import bson
import grpc
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pymongo import AsyncMongoClient

from notewell.common.v1.common_pb2 import Modality, SealedBox, SpeakerRole, Transcript
from notewell.events.v1.events_pb2 import DeadLetter, SessionEnded, TranscriptReady
from notewell.platform import events
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher
from notewell.platform.logs import JsonFormatter
from notewell.platform.telemetry import span_exporter
from notewell.transcriber.app import TranscriberApp
from notewell.transcriber.settings import Settings
from tests.support.otlp_collector import OtlpCollector
from tests.support.otlp_collector import attributes as otlp_attributes

# Under --import-mode=importlib the test folder is not on sys.path.
sys.path.insert(0, str(Path(__file__).parent))
from speech import RATE, require_tools, speak, write_wav

START = 1_741_100_400  # 2025-03-04T15:00:00Z
DEADLINE_SECONDS = 25.0
# Distinctive protected text: it must never leave the sealed transcript.
PHRASE = "the lighthouse keeper's marmalade"


@pytest.fixture
def overrides() -> dict[str, str]:
    """Settings a test changes, by parametrizing this fixture."""
    return {}


@pytest.fixture
def settings(
    service_env: dict[str, str], unique: str, overrides: dict[str, str]
) -> Settings:
    # A group of its own: a member left behind by an earlier test would otherwise hold
    # up the join until its session times out.
    env = {**service_env, "KAFKA_GROUP_ID": f"transcriber-{unique}", **overrides}
    return Settings(**env)  # type: ignore[arg-type]


@pytest.fixture
def s3(service_env: dict[str, str]) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=service_env["S3_ENDPOINT_URL"],
        region_name=service_env["AWS_REGION"],
        aws_access_key_id=service_env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=service_env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def bucket(s3: Any, unique: str) -> str:
    name = f"partner-{unique}"
    s3.create_bucket(Bucket=name)
    return name


class NoSpeechToText:
    """Counts calls; the tests that use it must never reach transcription."""

    calls = 0

    def transcribe(self, samples: Any) -> list[Any]:
        self.calls += 1
        return []


@pytest.fixture
def stt() -> NoSpeechToText:
    return NoSpeechToText()


@pytest.fixture
async def app(settings: Settings, stt: NoSpeechToText) -> AsyncIterator[TranscriberApp]:
    # Partner transcripts never reach speech to text; the recording here is refused
    # before it would.
    running = TranscriberApp(settings, stt=stt)  # type: ignore[arg-type]
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def publisher(settings: Settings) -> AsyncIterator[EventPublisher]:
    started = EventPublisher(settings)
    await started.start()
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def sessions(settings: Settings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        yield client[settings.mongodb_database]["sessions"]
    finally:
        await client.close()


class TopicReader:
    """Reads one topic from its beginning, without a consumer group."""

    def __init__(self, settings: Settings, topic: str) -> None:
        self.topic = topic
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
        )

    async def start(self) -> None:
        await self._consumer.start()
        await self._consumer.topics()
        partitions = self._consumer.partitions_for_topic(self.topic) or set()
        assert partitions, f"topic {self.topic} does not exist"
        self._partitions = [TopicPartition(self.topic, p) for p in partitions]
        self._consumer.assign(self._partitions)
        await self._consumer.seek_to_beginning(*self._partitions)

    async def stop(self) -> None:
        await self._consumer.stop()

    async def wait_for(
        self, done: Callable[[list[ConsumerRecord[bytes, bytes]]], bool], what: str
    ) -> list[ConsumerRecord[bytes, bytes]]:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not done(self.records):
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what} on {self.topic}")
            await self._poll()
        return self.records

    async def read_to_end(self) -> list[ConsumerRecord[bytes, bytes]]:
        """Everything on the topic up to its current end."""
        ends = await self._consumer.end_offsets(self._partitions)
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not await self._reached(ends):
            assert time.monotonic() < deadline, f"could not read {self.topic} to its end"
            await self._poll()
        return self.records

    async def _reached(self, ends: dict[TopicPartition, int]) -> bool:
        for tp, end in ends.items():
            if await self._consumer.position(tp) < end:
                return False
        return True

    async def _poll(self) -> None:
        batches = await self._consumer.getmany(timeout_ms=200)
        for batch in batches.values():
            self.records.extend(batch)


@pytest.fixture
async def readers(
    app: TranscriberApp, settings: Settings
) -> AsyncIterator[dict[str, TopicReader]]:
    # The app creates the topics, so the readers start after it.
    session_topic = settings.topic(events.SESSION_ENDED)
    topics = {
        "ready": settings.topic(events.TRANSCRIPT_READY),
        "dlq": events.dead_letter_topic(session_topic),
    }
    started = {name: TopicReader(settings, topic) for name, topic in topics.items()}
    for reader in started.values():
        await reader.start()
    try:
        yield started
    finally:
        for reader in started.values():
            await reader.stop()


def ts(seconds: float) -> Timestamp:
    return Timestamp(seconds=int(seconds))


def session_ended(session_id: str, unique: str, **fields: Any) -> SessionEnded:
    event = SessionEnded(
        event_id=f"evt-{session_id}",
        session_id=session_id,
        clinician_id=f"dr-okapi-{unique}",
        client_id=f"cl-narwhal-{unique}",
        scheduled_start=ts(START),
        scheduled_end=ts(START + 50 * 60),
        actual_start=ts(START + 60),
        actual_end=ts(START + 60 + 45 * 60 + 40),
        modality=Modality.MODALITY_TELEHEALTH,
        transcription_consent=True,
        partner_id="partner-1",
        occurred_at=ts(START + 47 * 60),
    )
    for name, value in fields.items():
        if value is None:
            event.ClearField(name)
        elif isinstance(value, Timestamp):
            getattr(event, name).CopyFrom(value)
        else:
            setattr(event, name, value)
    return event


def partner_file(phrase: str = PHRASE) -> bytes:
    turns = [
        {"speaker": "clinician", "start": 0.0, "end": 6.5, "text": "How was the week?"},
        {
            "speaker": "client",
            "start": 6.5,
            "end": 21.0,
            "text": f"I thought of {phrase}.",
        },
        {"speaker": "clinician", "start": 21.0, "end": 25.25, "text": "Tell me more."},
    ]
    return json.dumps({"turns": turns}).encode()


async def publish(
    publisher: EventPublisher, settings: Settings, key: str, event: SessionEnded
) -> None:
    value, headers = events.encode(event)
    await publisher.publish_raw(settings.topic(events.SESSION_ENDED), key, value, headers)


async def publish_sentinel(
    publisher: EventPublisher, settings: Settings, key: str
) -> None:
    """An undecodable record on the same key, hence the same partition: once it is
    dead-lettered, every record published before it on that key has been handled."""
    await publisher.publish_raw(
        settings.topic(events.SESSION_ENDED), key, b"?", {"content-type": "text/plain"}
    )


def dead_letters(records: list[ConsumerRecord[bytes, bytes]]) -> list[DeadLetter]:
    return [DeadLetter.FromString(r.value) for r in records]


async def wait_until_relayed(sessions: Any, session_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        doc = await sessions.find_one({"_id": session_id})
        if doc is not None and doc.get("outbox_pending") is False:
            return dict(doc)
        if time.monotonic() > deadline:
            pytest.fail("the session's outbox was never relayed")
        await asyncio.sleep(0.1)


def capture_spans() -> InMemorySpanExporter:
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        trace.set_tracer_provider(TracerProvider())
        provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def logged_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(record) for record in caplog.records]


async def test_consented_session_is_transcribed_sealed_and_announced_once(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    s3: Any,
    bucket: str,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spans = capture_spans()
    session_id = f"ses-{unique}"
    s3.put_object(Bucket=bucket, Key=f"sessions/{session_id}.json", Body=partner_file())
    # After the upload: botocore's debug log of the test's own request shows the body.
    caplog.set_level(logging.DEBUG)
    event = session_ended(
        session_id, unique, transcript_uri=f"s3://{bucket}/sessions/{session_id}.json"
    )

    # The partner delivers the same event twice.
    await publish(publisher, settings, session_id, event)
    await publish(publisher, settings, session_id, event)
    await publish_sentinel(publisher, settings, session_id)

    await readers["dlq"].wait_for(lambda r: len(r) >= 1, "the sentinel's dead letter")
    assert [d.reason_code for d in dead_letters(readers["dlq"].records)] == [
        "bad_content_type"
    ]
    stored = await wait_until_relayed(sessions, session_id)
    ready_records = await readers["ready"].read_to_end()
    assert len(ready_records) == 1

    record = ready_records[0]
    assert record.key == session_id.encode()
    assert PHRASE.encode() not in record.value
    ready = TranscriptReady.FromString(record.value)
    assert (ready.session_id, ready.clinician_id, ready.client_id) == (
        session_id,
        event.clinician_id,
        event.client_id,
    )
    assert ready.session.duration_minutes == 46
    assert ready.session.suggested_cpt_code == "90834"
    assert ready.session.modality == Modality.MODALITY_TELEHEALTH
    assert ready.session.actual_start == event.actual_start
    assert ready.session.scheduled_end == event.scheduled_end

    sealer = Sealer(master_key_from_settings(settings))
    transcript = sealer.open(ready.transcript, Transcript, context=session_id)
    assert transcript.transcript_id == ready.transcript_id
    assert transcript.session_id == session_id
    assert [(u.id, u.role) for u in transcript.utterances] == [
        ("u0", SpeakerRole.SPEAKER_ROLE_CLINICIAN),
        ("u1", SpeakerRole.SPEAKER_ROLE_CLIENT),
        ("u2", SpeakerRole.SPEAKER_ROLE_CLINICIAN),
    ]
    assert transcript.utterances[1].text == f"I thought of {PHRASE}."
    assert transcript.utterances[2].start_seconds == 21.0
    assert transcript.utterances[2].end_seconds == 25.25

    assert PHRASE.encode() not in bson.encode(stored)
    assert stored["status"] == "transcribed"
    assert stored["transcript_id"] == ready.transcript_id
    assert stored["duration_minutes"] == 46
    assert stored["suggested_cpt_code"] == "90834"
    assert stored["outbox"] == {}
    kept = sealer.open(SealedBox.FromString(stored["transcript"]), Transcript, session_id)
    assert kept == transcript

    lines = logged_lines(caplog)
    assert any("session_transcribed" in line for line in lines)
    assert not [line for line in lines if "marmalade" in line]

    handled = [
        s for s in spans.get_finished_spans() if s.name == "transcriber.session_ended"
    ]
    assert handled, "no span around the handling"
    for span in handled:
        assert set(span.attributes or {}) <= {"session_id"}
    assert {(s.attributes or {}).get("session_id") for s in handled} >= {session_id}

    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        reply = await health.Check(health_pb2.HealthCheckRequest(service=""))
    assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_session_without_consent_is_recorded_and_nothing_read_or_published(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    bucket: str,
    unique: str,
) -> None:
    session_id = f"ses-{unique}"
    # The object does not exist: reading it would dead-letter the event.
    event = session_ended(
        session_id,
        unique,
        transcription_consent=False,
        transcript_uri=f"s3://{bucket}/absent/{session_id}.json",
    )

    await publish(publisher, settings, session_id, event)
    await publish(publisher, settings, session_id, event)
    await publish_sentinel(publisher, settings, session_id)

    await readers["dlq"].wait_for(lambda r: len(r) >= 1, "the sentinel's dead letter")
    letters = dead_letters(await readers["dlq"].read_to_end())
    assert [d.reason_code for d in letters] == ["bad_content_type"]
    assert await readers["ready"].read_to_end() == []

    stored = await sessions.find_one({"_id": session_id})
    assert stored is not None
    assert stored["status"] == "consent_declined"
    assert (stored["clinician_id"], stored["client_id"]) == (
        event.clinician_id,
        event.client_id,
    )
    assert "transcript" not in stored
    assert "outbox" not in stored
    assert "received_at" in stored


async def test_malformed_events_are_dead_lettered_and_later_events_still_processed(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    s3: Any,
    bucket: str,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    topic = settings.topic(events.SESSION_ENDED)
    bogus_consent = f"consent-given-{unique}"

    def uploaded(name: str, body: bytes) -> str:
        s3.put_object(Bucket=bucket, Key=f"in/{name}.json", Body=body)
        return f"s3://{bucket}/in/{name}.json"

    def bad_turn(**turn: Any) -> bytes:
        base = {"speaker": "client", "start": 1, "end": 2, "text": PHRASE}
        return json.dumps({"turns": [{**base, **turn}]}).encode()

    def case(n: int, **fields: Any) -> tuple[str, bytes, dict[str, str]]:
        sid = f"ses-{unique}-{n}"
        if "transcript_uri" not in fields and "recording_uri" not in fields:
            fields["transcript_uri"] = uploaded(sid, partner_file())
        value, headers = events.encode(session_ended(sid, unique, **fields))
        return sid, value, headers

    def partner_sends(n: int, body: bytes) -> tuple[str, bytes, dict[str, str]]:
        return case(n, transcript_uri=uploaded(f"file-{n}", body))

    json_event = session_ended(f"ses-{unique}-json", unique, transcript_uri="s3://b/k")
    json_body = json.loads(events.encode_json(json_event)[0])
    json_body["transcriptionConsent"] = bogus_consent
    json_case = (
        f"ses-{unique}-json",
        json.dumps(json_body).encode(),
        {"content-type": events.JSON, "event-id": json_event.event_id},
    )

    start_after_end = {"actual_start": ts(START + 3600), "actual_end": ts(START)}
    expected: dict[str, str] = {}
    cases: list[tuple[str, bytes, dict[str, str]]] = []
    for code, built in [
        ("missing_field", case(1, clinician_id="")),
        ("missing_field", case(2, event_id="")),
        ("bad_session_times", case(3, actual_end=None)),
        ("bad_session_times", case(4, **start_after_end)),
        ("missing_field", case(5, modality=Modality.MODALITY_UNSPECIFIED)),
        ("bad_json", json_case),
        ("missing_source", case(6, transcript_uri=None)),
        ("bad_uri", case(7, transcript_uri=f"https://{bucket}/in/x.json")),
        ("bad_uri", case(8, transcript_uri=f"s3://{bucket}")),
        ("unreadable_transcript", case(9, transcript_uri=f"s3://{bucket}/absent.json")),
        ("unreadable_transcript", case(10, transcript_uri=f"s3://nb-{unique}/k.json")),
        ("unreadable_transcript", partner_sends(11, PHRASE.encode())),
        ("unreadable_transcript", partner_sends(12, b'{"turns":[]}')),
        ("unreadable_transcript", partner_sends(13, bad_turn(speaker="x"))),
        ("unreadable_transcript", partner_sends(14, bad_turn(start=-3))),
        ("unreadable_transcript", partner_sends(15, bad_turn(end="2"))),
        ("unreadable_transcript", partner_sends(16, bad_turn(text=None))),
        ("unreadable_recording", case(17, recording_uri=f"s3://{bucket}/in/rec.wav")),
        ("bad_manifest", case(18, recording_uri=uploaded("manifest-18", b"[1]"))),
    ]:
        cases.append(built)
        expected[built[0]] = code
    for key, value, headers in cases:
        await publisher.publish_raw(topic, key, value, headers)

    valid_id = f"ses-{unique}-valid"
    valid = session_ended(
        valid_id, unique, transcript_uri=uploaded(valid_id, partner_file())
    )
    await publish(publisher, settings, valid_id, valid)

    await readers["ready"].wait_for(lambda r: len(r) >= 1, "the valid event's transcript")
    records = await readers["dlq"].wait_for(
        lambda r: len(r) >= len(cases), "every malformed event's dead letter"
    )
    letters = dead_letters(records)
    assert {d.session_id: d.reason_code for d in letters} == expected
    assert len(letters) == len(cases)

    distinctive = [PHRASE, "marmalade", f"dr-okapi-{unique}", f"cl-narwhal-{unique}"]
    distinctive += [bucket, bogus_consent, f"nb-{unique}", unique]
    sent = {key: value for key, value, _ in cases}
    for letter in letters:
        assert letter.source_topic == topic
        assert letter.service == "transcriber"
        assert letter.original_value == sent[letter.session_id]
        leaked = [value for value in distinctive if value in letter.reason]
        assert not leaked, f"{letter.reason_code} reason quotes the message"
        assert letter.reason, "a dead letter must say why"

    ready_ids = [
        TranscriptReady.FromString(r.value).session_id for r in readers["ready"].records
    ]
    assert ready_ids == [valid_id]
    assert not [line for line in logged_lines(caplog) if "marmalade" in line]


def long_partner_file(target_bytes: int) -> bytes:
    """A partner transcript of about ``target_bytes``, in turns of distinct sentences."""
    turns: list[dict[str, Any]] = []
    size, at = 0, 0.0
    while size < target_bytes:
        n = len(turns)
        text = f"Turn {n} went over the week's plans and what came of them. " * 8
        turns.append(
            {
                "speaker": "clinician" if n % 2 == 0 else "client",
                "start": at,
                "end": at + 20.0,
                "text": text.strip(),
            }
        )
        size += len(text) + 60
        at += 20.0
    return json.dumps({"turns": turns}).encode()


@pytest.mark.parametrize("overrides", [{"KAFKA_MAX_MESSAGE_BYTES": str(1024 * 1024)}])
async def test_a_transcript_too_large_for_kafka_is_dead_lettered_not_retried(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    s3: Any,
    bucket: str,
    unique: str,
) -> None:
    session_id = f"ses-{unique}"
    key = f"sessions/{session_id}.json"
    s3.put_object(Bucket=bucket, Key=key, Body=long_partner_file(1_300_000))
    event = session_ended(session_id, unique, transcript_uri=f"s3://{bucket}/{key}")

    await publish(publisher, settings, session_id, event)
    await publish_sentinel(publisher, settings, session_id)

    records = await readers["dlq"].wait_for(lambda r: len(r) >= 2, "two dead letters")
    letters = dead_letters(records)
    codes = [d.reason_code for d in letters]
    assert codes == ["transcript_too_large", "bad_content_type"]
    too_large = letters[0]
    assert too_large.session_id == session_id
    assert "KAFKA_MAX_MESSAGE_BYTES" in too_large.reason
    assert "Turn" not in too_large.reason and bucket not in too_large.reason
    assert too_large.original_value == events.encode(event)[0]
    assert await readers["ready"].read_to_end() == []
    assert await sessions.find_one({"_id": session_id}) is None


async def test_a_transcript_over_a_mebibyte_goes_out_whole(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    s3: Any,
    bucket: str,
    unique: str,
) -> None:
    session_id = f"ses-{unique}"
    key = f"sessions/{session_id}.json"
    body = long_partner_file(2_500_000)
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    event = session_ended(session_id, unique, transcript_uri=f"s3://{bucket}/{key}")

    await publish(publisher, settings, session_id, event)
    await wait_until_relayed(sessions, session_id)

    records = await readers["ready"].wait_for(lambda r: len(r) >= 1, "transcript.ready")
    assert len(records[0].value) > 2 * 1024 * 1024
    ready = TranscriptReady.FromString(records[0].value)
    sealer = Sealer(master_key_from_settings(settings))
    transcript = sealer.open(ready.transcript, Transcript, context=session_id)
    assert len(transcript.utterances) == len(json.loads(body)["turns"])
    assert await readers["dlq"].read_to_end() == []


@pytest.mark.parametrize("overrides", [{"TRANSCRIBER_MAX_AUDIO_SECONDS": "1.5"}])
async def test_a_recording_longer_than_allowed_is_refused_before_transcription(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    stt: NoSpeechToText,
    s3: Any,
    bucket: str,
    unique: str,
    tmp_path: Path,
) -> None:
    require_tools()
    question = "How did the breathing exercise go this week?"
    samples = speak(question, "en-us+m3", tmp_path, "question")
    assert len(samples) / RATE > 1.5
    wav = write_wav(samples, tmp_path / "session.wav")
    key = f"recordings/{unique}.wav"
    s3.put_object(Bucket=bucket, Key=key, Body=wav.read_bytes())
    session_id = f"ses-{unique}"
    event = session_ended(session_id, unique, transcript_uri=None)
    event.recording_uri = f"s3://{bucket}/{key}"

    await publish(publisher, settings, session_id, event)

    records = await readers["dlq"].wait_for(lambda r: len(r) >= 1, "the dead letter")
    letter = dead_letters(records)[0]
    assert (letter.reason_code, letter.session_id) == ("recording_too_long", session_id)
    assert "TRANSCRIBER_MAX_AUDIO_SECONDS" in letter.reason
    assert stt.calls == 0
    assert await sessions.find_one({"_id": session_id}) is None
    assert await readers["ready"].read_to_end() == []


async def test_spans_reach_an_otlp_collector_carrying_ids_only(
    app: TranscriberApp,
    readers: dict[str, TopicReader],
    publisher: EventPublisher,
    settings: Settings,
    sessions: Any,
    s3: Any,
    bucket: str,
    unique: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collector = OtlpCollector()
    collector.start()
    try:
        monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
        exporter = span_exporter("otlp")
        assert exporter is not None
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            trace.set_tracer_provider(TracerProvider())
            provider = trace.get_tracer_provider()
        assert isinstance(provider, TracerProvider)
        processor = SimpleSpanProcessor(exporter)
        provider.add_span_processor(processor)

        session_id = f"ses-{unique}"
        key = f"sessions/{session_id}.json"
        s3.put_object(Bucket=bucket, Key=key, Body=partner_file())
        event = session_ended(session_id, unique, transcript_uri=f"s3://{bucket}/{key}")
        await publish(publisher, settings, session_id, event)
        await wait_until_relayed(sessions, session_id)

        span = await asyncio.to_thread(
            collector.wait_for_span, "transcriber.session_ended"
        )
        processor.shutdown()
    finally:
        collector.stop()

    assert otlp_attributes(span.attributes) == {"session_id": session_id}
    for _, received in collector.spans():
        values = otlp_attributes(received.attributes).values()
        assert set(values) <= {session_id}, "a span attribute holds more than an id"
    for request in collector.requests:
        assert PHRASE.encode() not in request.SerializeToString()
        assert event.clinician_id.encode() not in request.SerializeToString()
