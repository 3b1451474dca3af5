"""The transcriber's pure rules: session facts, CPT bands, partner transcript format,
event checks and the S3 error classification. No servers needed."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SpeakerRole
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform.events import InvalidEvent
from notewell.transcriber import partner_transcript, session_ended
from notewell.transcriber.session_facts import (
    duration_minutes,
    session_facts,
    suggested_cpt_code,
)
from notewell.transcriber.transcript_files import (
    TranscriptFiles,
    TranscriptStoreUnavailable,
    classify,
)

START = 1_741_100_400  # 2025-03-04T15:00:00Z


def ts(seconds: float) -> Timestamp:
    whole = int(seconds)
    return Timestamp(seconds=whole, nanos=round((seconds - whole) * 1e9))


@pytest.mark.parametrize(
    ("minutes", "code"),
    [
        (0, ""),
        (15, ""),
        (16, "90832"),
        (37, "90832"),
        (38, "90834"),
        (52, "90834"),
        (53, "90837"),
        (180, "90837"),
    ],
)
def test_cpt_code_bands(minutes: int, code: str) -> None:
    assert suggested_cpt_code(minutes) == code


@pytest.mark.parametrize(
    ("seconds", "minutes"),
    [
        (15 * 60 + 29, 15),
        (15 * 60 + 31, 16),
        (37 * 60 + 29.9, 37),
        (37 * 60 + 31, 38),
        (52 * 60 + 29, 52),
        (52 * 60 + 31, 53),
        (60, 1),
    ],
)
def test_duration_rounds_to_whole_minutes(seconds: float, minutes: int) -> None:
    assert duration_minutes(ts(START), ts(START + seconds)) == minutes


def test_session_facts_copy_times_and_derive_length_and_code() -> None:
    event = SessionEnded(
        scheduled_start=ts(START),
        scheduled_end=ts(START + 3000),
        actual_start=ts(START + 120),
        actual_end=ts(START + 120 + 53 * 60),
        modality=Modality.MODALITY_IN_PERSON,
    )

    facts = session_facts(event)

    assert facts.scheduled_start == event.scheduled_start
    assert facts.scheduled_end == event.scheduled_end
    assert facts.actual_start == event.actual_start
    assert facts.actual_end == event.actual_end
    assert facts.duration_minutes == 53
    assert facts.suggested_cpt_code == "90837"
    assert facts.modality == Modality.MODALITY_IN_PERSON


def test_session_facts_leave_unscheduled_times_unset() -> None:
    event = SessionEnded(actual_start=ts(START), actual_end=ts(START + 10 * 60))

    facts = session_facts(event)

    assert not facts.HasField("scheduled_start")
    assert facts.suggested_cpt_code == ""


def test_partner_transcript_keeps_order_roles_and_times() -> None:
    body = json.dumps(
        {
            "turns": [
                {"speaker": "clinician", "start": 0, "end": 4.5, "text": "Hello."},
                {"speaker": "client", "start": 4.5, "end": 9, "text": "Hi there."},
                {"speaker": "clinician", "start": 9, "end": 9, "text": "Mm."},
            ]
        }
    ).encode()

    transcript = partner_transcript.parse(body, "s-1", "t-1")

    assert transcript.session_id == "s-1"
    assert transcript.transcript_id == "t-1"
    assert [(u.id, u.role, u.text) for u in transcript.utterances] == [
        ("u0", SpeakerRole.SPEAKER_ROLE_CLINICIAN, "Hello."),
        ("u1", SpeakerRole.SPEAKER_ROLE_CLIENT, "Hi there."),
        ("u2", SpeakerRole.SPEAKER_ROLE_CLINICIAN, "Mm."),
    ]
    second = transcript.utterances[1]
    assert (second.start_seconds, second.end_seconds) == (4.5, 9.0)


SECRET = "pineapple confession"


def turn(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"speaker": "client", "start": 1, "end": 2, "text": SECRET}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not ...}


@pytest.mark.parametrize(
    "body",
    [
        b"not json " + SECRET.encode(),
        b"\xff\xfe\x00garbage",
        json.dumps([turn()]).encode(),
        json.dumps({"turns": []}).encode(),
        json.dumps({"turns": "many"}).encode(),
        json.dumps({"turns": [SECRET]}).encode(),
        json.dumps({"turns": [turn(speaker="therapist")]}).encode(),
        json.dumps({"turns": [turn(speaker=["client"])]}).encode(),
        json.dumps({"turns": [turn(speaker=...)]}).encode(),
        json.dumps({"turns": [turn(text=...)]}).encode(),
        json.dumps({"turns": [turn(text="  ")]}).encode(),
        json.dumps({"turns": [turn(text=7)]}).encode(),
        json.dumps({"turns": [turn(start="1")]}).encode(),
        json.dumps({"turns": [turn(start=True)]}).encode(),
        json.dumps({"turns": [turn(end=...)]}).encode(),
        json.dumps({"turns": [turn(start=-1)]}).encode(),
        json.dumps({"turns": [turn(start=3, end=2)]}).encode(),
        b'{"turns": [{"speaker": "client", "start": NaN, "end": 2, "text": "x"}]}',
        json.dumps({"turns": [turn(), turn(start=9, end=1)]}).encode(),
    ],
)
def test_malformed_partner_transcripts_are_unreadable(body: bytes) -> None:
    with pytest.raises(InvalidEvent) as caught:
        partner_transcript.parse(body, "s-1", "t-1")

    assert caught.value.reason_code == "unreadable_transcript"
    assert SECRET not in caught.value.reason
    assert "therapist" not in caught.value.reason


def valid_event(**overrides: Any) -> SessionEnded:
    event = SessionEnded(
        event_id="e-1",
        session_id="s-1",
        clinician_id="c-1",
        client_id="p-1",
        actual_start=ts(START),
        actual_end=ts(START + 3000),
        modality=Modality.MODALITY_TELEHEALTH,
        transcription_consent=True,
        transcript_uri="s3://partner-bucket/sessions/s-1.json",
    )
    for name, value in overrides.items():
        if value is None:
            event.ClearField(name)
        else:
            setattr(event, name, value)
    return event


def test_a_complete_event_passes_and_names_its_transcript() -> None:
    event = valid_event()

    session_ended.check(event)

    assert session_ended.source_location(event) == (
        "transcript_uri",
        "partner-bucket",
        "sessions/s-1.json",
    )


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"session_id": ""}, "missing_field"),
        ({"clinician_id": " "}, "missing_field"),
        ({"client_id": ""}, "missing_field"),
        ({"event_id": ""}, "missing_field"),
        ({"actual_start": None}, "bad_session_times"),
        ({"actual_end": None}, "bad_session_times"),
        ({"modality": Modality.MODALITY_UNSPECIFIED}, "missing_field"),
    ],
)
def test_incomplete_events_are_invalid(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        session_ended.check(valid_event(**overrides))

    assert caught.value.reason_code == code


def test_a_session_that_ends_when_it_starts_is_invalid() -> None:
    event = valid_event()
    event.actual_end.CopyFrom(event.actual_start)

    with pytest.raises(InvalidEvent) as caught:
        session_ended.check(event)

    assert caught.value.reason_code == "bad_session_times"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"transcript_uri": None}, "missing_source"),
        ({"transcript_uri": "https://partner-bucket/s-1.json"}, "bad_uri"),
        ({"transcript_uri": "s3://partner-bucket"}, "bad_uri"),
        ({"recording_uri": "https://partner-bucket/s-1.wav"}, "bad_uri"),
    ],
)
def test_unusable_sources_are_invalid(overrides: dict[str, Any], code: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        session_ended.source_location(valid_event(**overrides))

    assert caught.value.reason_code == code
    assert "partner-bucket" not in caught.value.reason


def client_error(code: str, status: int) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": "about sessions/s-1.json"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "GetObject",
    )


@pytest.mark.parametrize(
    ("code", "status"), [("NoSuchKey", 404), ("NoSuchBucket", 404), ("AccessDenied", 403)]
)
def test_missing_or_forbidden_objects_are_permanent(code: str, status: int) -> None:
    error = classify(client_error(code, status))

    assert isinstance(error, InvalidEvent)
    assert error.reason_code == "unreadable_transcript"


@pytest.mark.parametrize(
    ("code", "status"),
    [("InternalError", 500), ("SlowDown", 503), ("RequestTimeout", 400)],
)
def test_failing_stores_are_transient(code: str, status: int) -> None:
    error = classify(client_error(code, status))

    assert isinstance(error, TranscriptStoreUnavailable)
    assert "s-1" not in str(error)


class FakeS3:
    def __init__(self, outcome: Exception | bytes) -> None:
        self._outcome = outcome

    def get_object(self, Bucket: str, Key: str) -> dict[str, Any]:
        if isinstance(self._outcome, Exception):
            raise self._outcome
        return {"Body": io.BytesIO(self._outcome), "ContentLength": len(self._outcome)}


async def test_unreachable_store_is_transient() -> None:
    unreachable = EndpointConnectionError(endpoint_url="http://s3")
    files = TranscriptFiles(FakeS3(unreachable), 100)

    with pytest.raises(TranscriptStoreUnavailable):
        await files.read("partner-bucket", "sessions/s-1.json")


async def test_oversized_file_is_unreadable() -> None:
    files = TranscriptFiles(FakeS3(b"x" * 101), 100)

    with pytest.raises(InvalidEvent) as caught:
        await files.read("partner-bucket", "sessions/s-1.json")

    assert caught.value.reason_code == "unreadable_transcript"


async def test_small_file_is_read_whole() -> None:
    files = TranscriptFiles(FakeS3(b'{"turns": []}'), 100)

    assert await files.read("partner-bucket", "sessions/s-1.json") == b'{"turns": []}'
