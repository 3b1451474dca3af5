"""Recordings end to end against the real servers and the packaged Whisper tiny.en:
per-participant tracks, a mixed track, consent declined and withdrawn."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import boto3
import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from pymongo import AsyncMongoClient

from notewell.common.v1.common_pb2 import Modality, SealedBox, SpeakerRole, Transcript
from notewell.events.v1.events_pb2 import ConsentWithdrawn, SessionEnded
from notewell.platform import events
from notewell.platform.auth import bearer, mint_token
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher
from notewell.platform.logs import JsonFormatter
from notewell.transcriber import app as app_module
from notewell.transcriber.app import TranscriberApp
from notewell.transcriber.settings import Settings
from notewell.transcriber.speech_to_text import Segment, Word
from notewell.transcripts.v1 import transcripts_pb2 as pb
from notewell.transcripts.v1 import transcripts_pb2_grpc as pb_grpc

# Under --import-mode=importlib the test folder is not on sys.path.
sys.path.insert(0, str(Path(__file__).parent))
from speech import (
    DIALOGUE,
    Line,
    dialogue_tracks,
    to_flac,
    word_error_rate,
    write_wav,
)

pytestmark = pytest.mark.asyncio

START = 1_741_100_400
DEADLINE_SECONDS = 120.0
ROLE_NAMES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
}
# A distinctive phrase of the dialogue: it must never reach the logs.
SPOKEN = "garden project"


@pytest.fixture
def settings(service_env: dict[str, str], unique: str) -> Settings:
    return Settings(
        **service_env, KAFKA_GROUP_ID=f"transcriber-{unique}", STT_CHUNK_SECONDS="12"
    )


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
    s3.create_bucket(Bucket=f"rec-{unique}")
    return f"rec-{unique}"


@pytest.fixture(scope="module")
def dialogue(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Line]]:
    folder = tmp_path_factory.mktemp("speech")
    tracks, lines = dialogue_tracks(folder)
    to_flac(write_wav(tracks["clinician"], folder / "clinician.wav"))
    write_wav(tracks["client"], folder / "client.wav")
    write_wav(tracks["clinician"] + tracks["client"], folder / "mixed.wav")
    return folder, lines


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[TranscriberApp]:
    running = TranscriberApp(settings)
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
async def db(settings: Settings) -> AsyncIterator[Any]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        yield client[settings.mongodb_database]
    finally:
        await client.close()


def ts(seconds: int) -> Timestamp:
    return Timestamp(seconds=seconds)


def session_ended(
    sid: str, unique: str, consent: bool = True, **source: str
) -> SessionEnded:
    return SessionEnded(
        event_id=f"evt-{sid}",
        session_id=sid,
        clinician_id=f"dr-{unique}",
        client_id=f"cl-{unique}",
        actual_start=ts(START),
        actual_end=ts(START + 2700),
        modality=Modality.MODALITY_TELEHEALTH,
        transcription_consent=consent,
        **source,
    )


async def publish(
    publisher: EventPublisher, settings: Settings, topic: str, sid: str, event: Any
) -> None:
    value, headers = events.encode(event)
    await publisher.publish_raw(settings.topic(topic), sid, value, headers)


async def wait_for_status(db: Any, sid: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        doc = await db["sessions"].find_one({"_id": sid})
        if (
            doc is not None
            and doc.get("status") == status
            and not doc.get("recording_objects")
        ):
            return doc
        if time.monotonic() > deadline:
            pytest.fail(f"session never reached {status}")
        await _pause()


async def _pause() -> None:
    await asyncio.sleep(0.2)


def keys(s3: Any, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def upload(s3: Any, bucket: str, key: str, path: Path) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
    return f"s3://{bucket}/{key}"


def manifest(s3: Any, bucket: str, folder: Path, sid: str) -> str:
    tracks = [
        {
            "uri": upload(s3, bucket, f"{sid}/clinician.flac", folder / "clinician.flac"),
            "role": "clinician",
        },
        {
            "uri": upload(s3, bucket, f"{sid}/client.wav", folder / "client.wav"),
            "role": "client",
        },
    ]
    body = json.dumps({"tracks": tracks}).encode()
    s3.put_object(Bucket=bucket, Key=f"{sid}/recording.json", Body=body)
    return f"s3://{bucket}/{sid}/recording.json"


def check_transcript(transcript: Transcript, lines: list[Line]) -> None:
    reference = " ".join(text for _, text in DIALOGUE)
    spoken = " ".join(u.text for u in transcript.utterances)
    assert word_error_rate(reference, spoken) <= 0.15

    # Word accuracy is judged above; a word given to the wrong speaker would count
    # twice here (missing from one role, extra in the other).
    for role in ("clinician", "client"):
        said = " ".join(t for r, t in DIALOGUE if r == role)
        heard = " ".join(
            u.text for u in transcript.utterances if u.role == ROLE_NAMES[role]
        )
        assert word_error_rate(said, heard) <= 0.25, f"{role} words given to another"
    for utterance in transcript.utterances:
        overlap = max(
            lines,
            key=lambda line: (
                min(line.end, utterance.end_seconds)
                - max(line.start, utterance.start_seconds)
            ),
        )
        assert utterance.role == ROLE_NAMES[overlap.role]
        assert overlap.start - 0.5 <= utterance.start_seconds <= overlap.end
    assert [u.id for u in transcript.utterances] == [
        f"u{i}" for i in range(len(transcript.utterances))
    ]


async def transcript_over_grpc(
    app: TranscriberApp, settings: Settings, sid: str, clinician: str
) -> tuple[pb.GetTranscriptResponse, pb.TranscriptionStatus]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
        stub = pb_grpc.TranscriptsStub(channel)
        metadata = bearer(mint_token(settings, clinician))
        got = await stub.GetTranscript(
            pb.GetTranscriptRequest(session_id=sid), metadata=metadata
        )
        status = await stub.GetTranscriptionStatus(
            pb.GetTranscriptionStatusRequest(session_id=sid), metadata=metadata
        )
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await stub.GetTranscript(
                pb.GetTranscriptRequest(session_id=sid),
                metadata=bearer(mint_token(settings, "dr-someone-else")),
            )
        assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    return got, status


async def test_two_tracks_give_words_and_roles_and_the_audio_is_deleted(
    app: TranscriberApp,
    publisher: EventPublisher,
    settings: Settings,
    s3: Any,
    bucket: str,
    db: Any,
    unique: str,
    dialogue: tuple[Path, list[Line]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    folder, lines = dialogue
    sid = f"ses-{unique}-tracks"
    uri = manifest(s3, bucket, folder, sid)

    await publish(
        publisher,
        settings,
        events.SESSION_ENDED,
        sid,
        session_ended(sid, unique, recording_uri=uri),
    )
    doc = await wait_for_status(db, sid, "transcribed")

    box = SealedBox.FromString(doc["transcript"])
    transcript = Sealer(master_key_from_settings(settings)).open(box, Transcript, sid)
    check_transcript(transcript, lines)
    assert keys(s3, bucket) == []
    assert await db["transcription_chunks"].find_one({"session_id": sid}) is None

    got, status = await transcript_over_grpc(app, settings, sid, f"dr-{unique}")
    assert got.transcript == box and got.transcript_id == doc["transcript_id"]
    assert got.session.duration_minutes == 45
    assert (status.state, status.percent) == (pb.TRANSCRIPTION_STATE_DONE, 100)
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    assert any("session_transcribed" in line for line in lines)
    assert not [line for line in lines if SPOKEN in line or "sleeping badly" in line]


async def test_a_mixed_track_is_separated_into_clinician_and_client(
    app: TranscriberApp,
    publisher: EventPublisher,
    settings: Settings,
    s3: Any,
    bucket: str,
    db: Any,
    unique: str,
    dialogue: tuple[Path, list[Line]],
) -> None:
    folder, lines = dialogue
    sid = f"ses-{unique}-mixed"
    uri = upload(s3, bucket, f"{sid}/room.wav", folder / "mixed.wav")

    await publish(
        publisher,
        settings,
        events.SESSION_ENDED,
        sid,
        session_ended(sid, unique, recording_uri=uri),
    )
    doc = await wait_for_status(db, sid, "transcribed")

    box = SealedBox.FromString(doc["transcript"])
    transcript = Sealer(master_key_from_settings(settings)).open(box, Transcript, sid)
    check_transcript(transcript, lines)
    assert keys(s3, bucket) == []


async def test_without_consent_the_recording_is_deleted_and_nothing_is_kept(
    app: TranscriberApp,
    publisher: EventPublisher,
    settings: Settings,
    s3: Any,
    bucket: str,
    db: Any,
    unique: str,
    dialogue: tuple[Path, list[Line]],
) -> None:
    folder, _ = dialogue
    sid = f"ses-{unique}-declined"
    uri = manifest(s3, bucket, folder, sid)

    await publish(
        publisher,
        settings,
        events.SESSION_ENDED,
        sid,
        session_ended(sid, unique, consent=False, recording_uri=uri),
    )
    doc = await wait_for_status(db, sid, "consent_declined")

    assert keys(s3, bucket) == []
    assert set(doc) == {
        "_id",
        "status",
        "clinician_id",
        "client_id",
        "source_event_id",
        "received_at",
    }
    assert await db["transcription_chunks"].find_one({}) is None
    assert await db["transcriptions"].find_one({}) is None


async def test_withdrawn_consent_deletes_the_transcript_and_a_late_recording(
    app: TranscriberApp,
    publisher: EventPublisher,
    settings: Settings,
    s3: Any,
    bucket: str,
    db: Any,
    unique: str,
    dialogue: tuple[Path, list[Line]],
) -> None:
    folder, _ = dialogue
    sid = f"ses-{unique}-withdrawn"
    vtt = b"WEBVTT\n\n00:00.000 --> 00:03.000\n<v Clinician>How are you?\n"
    s3.put_object(Bucket=bucket, Key=f"{sid}.vtt", Body=vtt)
    await publish(
        publisher,
        settings,
        events.SESSION_ENDED,
        sid,
        session_ended(sid, unique, transcript_uri=f"s3://{bucket}/{sid}.vtt"),
    )
    await wait_for_status(db, sid, "transcribed")

    withdrawn = ConsentWithdrawn(
        event_id=f"w-{sid}",
        session_id=sid,
        clinician_id=f"dr-{unique}",
        client_id=f"cl-{unique}",
    )
    await publish(publisher, settings, events.CONSENT_WITHDRAWN, sid, withdrawn)
    doc = await wait_for_status(db, sid, "consent_withdrawn")
    assert "transcript" not in doc and not doc.get("outbox")

    # Withdrawn before the session's recording arrives: the recording is deleted unread.
    late = f"ses-{unique}-late"
    await publish(
        publisher,
        settings,
        events.CONSENT_WITHDRAWN,
        late,
        ConsentWithdrawn(
            event_id=f"w-{late}", session_id=late, clinician_id=f"dr-{unique}"
        ),
    )
    await wait_for_status(db, late, "consent_withdrawn")
    uri = manifest(s3, bucket, folder, late)
    await publish(
        publisher,
        settings,
        events.SESSION_ENDED,
        late,
        session_ended(late, unique, recording_uri=uri),
    )
    deadline = time.monotonic() + DEADLINE_SECONDS
    while [k for k in keys(s3, bucket) if k.startswith(late)]:
        assert time.monotonic() < deadline, "the late recording was not deleted"
        await _pause()
    doc = await db["sessions"].find_one({"_id": late})
    assert doc["status"] == "consent_withdrawn" and "transcript" not in doc


class GatedSpeech:
    """Stands in for Whisper: one word per chunk; the third chunk waits for a gate."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.calls = 0

    def transcribe(self, samples: Any) -> list[Segment]:
        self.calls += 1
        if self.calls == 3:
            self.gate.wait(timeout=DEADLINE_SECONDS)
        return [Segment(0.5, 1.0, " tone", (Word(0.5, 1.0, " tone"),))]


async def test_progress_is_reported_and_kept_audio_is_swept(
    service_env: dict[str, str],
    unique: str,
    publisher: EventPublisher,
    s3: Any,
    bucket: str,
    db: Any,
    dialogue: tuple[Path, list[Line]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "SWEEP_SECONDS", 0.5)
    settings = Settings(
        **service_env,
        KAFKA_GROUP_ID=f"transcriber-{unique}",
        STT_CHUNK_SECONDS="6",
        RECORDING_RETENTION_HOURS="0.003",
    )
    speech = GatedSpeech()
    running = TranscriberApp(settings, stt=speech)
    await running.start()
    try:
        folder, _ = dialogue
        sid = f"ses-{unique}-progress"
        uri = upload(s3, bucket, f"{sid}/room.wav", folder / "mixed.wav")
        await publish(
            publisher,
            settings,
            events.SESSION_ENDED,
            sid,
            session_ended(sid, unique, recording_uri=uri),
        )

        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.grpc_port}") as channel:
            stub = pb_grpc.TranscriptsStub(channel)
            metadata = bearer(mint_token(settings, f"dr-{unique}"))
            request = pb.GetTranscriptionStatusRequest(session_id=sid)
            deadline = time.monotonic() + DEADLINE_SECONDS
            while True:
                try:
                    status = await stub.GetTranscriptionStatus(request, metadata=metadata)
                    # Read once the third chunk has started: the second's progress
                    # is reported before it, and nothing more until the gate opens.
                    if (
                        status.state == pb.TRANSCRIPTION_STATE_RUNNING
                        and speech.calls >= 3
                    ):
                        break
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.NOT_FOUND
                assert time.monotonic() < deadline, "never reported as running"
                await _pause()
            # Two of about five chunks are done while the third waits at the gate.
            assert 20 <= status.percent <= 60
            speech.gate.set()

            doc = None
            while doc is None or doc.get("status") != "transcribed":
                assert time.monotonic() < deadline, "never transcribed"
                await _pause()
                doc = await db["sessions"].find_one({"_id": sid})
            # Kept about 11 seconds (RECORDING_RETENTION_HOURS), then swept.
            assert doc["recording_delete_after"] > doc["created_at"]
            assert len(keys(s3, bucket)) == 1
            status = await stub.GetTranscriptionStatus(request, metadata=metadata)
            assert (status.state, status.percent) == (pb.TRANSCRIPTION_STATE_DONE, 100)

        while keys(s3, bucket):
            assert time.monotonic() < deadline, "kept audio was never swept"
            await _pause()
        doc = await db["sessions"].find_one({"_id": sid})
        assert "recording_objects" not in doc and "recording_delete_after" not in doc
    finally:
        speech.gate.set()
        await running.stop()
