"""How long a recording may be, and that the longest one allowed is transcribed within
the consumer's poll interval."""

from __future__ import annotations

import io
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from pymongo import AsyncMongoClient

from notewell.common.v1.common_pb2 import Modality, SpeakerRole
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.events import InvalidEvent
from notewell.transcriber import audio
from notewell.transcriber.progress import Progress
from notewell.transcriber.recording_manifest import Track
from notewell.transcriber.recordings import Recordings
from notewell.transcriber.settings import Settings, worst_case_seconds
from notewell.transcriber.transcription import max_event_bytes

HOUR = 3600


def test_defaults_fit_three_hours_of_audio_in_the_poll_interval() -> None:
    settings = Settings()
    assert settings.max_audio_seconds == 3 * HOUR
    assert settings.max_poll_interval_ms == 30 * 60 * 1000
    worst = worst_case_seconds(settings.max_audio_seconds, settings.real_time_factor)
    assert worst == pytest.approx(3 * HOUR * 0.13 * 1.25)
    assert worst * 1000 < settings.max_poll_interval_ms


@pytest.mark.parametrize(
    "env",
    [
        {"TRANSCRIBER_MAX_AUDIO_SECONDS": str(4 * HOUR)},
        {"TRANSCRIBER_REAL_TIME_FACTOR": "0.2"},
        {"TRANSCRIBER_MAX_POLL_INTERVAL_MS": str(300_000)},
    ],
)
def test_a_worst_case_longer_than_the_poll_interval_is_refused(
    env: dict[str, str],
) -> None:
    with pytest.raises(ValidationError, match="raise the interval or lower the maximum"):
        Settings(**env)  # type: ignore[arg-type]


def test_a_longer_maximum_is_accepted_with_a_longer_interval() -> None:
    settings = Settings(
        TRANSCRIBER_MAX_AUDIO_SECONDS=str(4 * HOUR),  # type: ignore[arg-type]
        TRANSCRIBER_MAX_POLL_INTERVAL_MS=str(40 * 60 * 1000),
    )
    assert settings.max_audio_seconds == 4 * HOUR


def test_the_event_limit_leaves_room_in_the_record_and_the_session_document() -> None:
    mib = 1024 * 1024
    assert max_event_bytes(mib) == mib - 16 * 1024
    assert max_event_bytes(4 * mib) == 4 * mib - 16 * 1024
    # Stored twice in one document, the transcript keeps it under MongoDB's 16 MiB.
    assert max_event_bytes(8 * mib) == 8 * mib - 32 * 1024
    assert max_event_bytes(64 * mib) == 8 * mib - 32 * 1024
    assert 2 * max_event_bytes(64 * mib) < 16 * mib


def tone_wav(seconds: float) -> bytes:
    t = np.arange(int(seconds * audio.SAMPLE_RATE)) / audio.SAMPLE_RATE
    samples = 0.3 * np.sin(2 * np.pi * 220 * t)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(audio.SAMPLE_RATE)
        writer.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


def test_the_declared_length_is_read_without_decoding() -> None:
    assert audio.declared_seconds(tone_wav(7.5)) == pytest.approx(7.5, abs=0.01)
    assert audio.declared_seconds(b"not audio at all") is None


class Files:
    def __init__(self, bodies: dict[str, bytes]) -> None:
        self._bodies = bodies

    async def read(self, bucket: str, key: str, *args: Any, **kwargs: Any) -> bytes:
        return self._bodies[key]


class CountingSpeechToText:
    def __init__(self) -> None:
        self.calls = 0

    def transcribe(self, samples: Any) -> list[Any]:
        self.calls += 1
        return []


@pytest.fixture
async def progress(service_env: dict[str, str]) -> AsyncIterator[Progress]:
    settings = Settings(**service_env)  # type: ignore[arg-type]
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        sealer = Sealer(master_key_from_settings(settings))
        yield Progress(client[settings.mongodb_database], sealer)
    finally:
        await client.close()


EVENT = SessionEnded(
    session_id="s-long", clinician_id="dr-1", modality=Modality.MODALITY_IN_PERSON
)
CLINICIAN = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT


@pytest.mark.asyncio
async def test_tracks_together_longer_than_the_maximum_are_refused_before_decoding(
    progress: Progress, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = Files({"a.wav": tone_wav(6), "b.wav": tone_wav(6)})
    stt = CountingSpeechToText()
    decoded: list[str] = []
    decode = audio.decode

    def spy(body: bytes, what: str) -> audio.Samples:
        decoded.append(what)
        return decode(body, what)

    monkeypatch.setattr(audio, "decode", spy)
    tracks = [Track("b", "a.wav", CLINICIAN), Track("b", "b.wav", CLIENT)]

    # Each track alone is within 10 s; both together are not.
    refusing = Recordings(files, stt, progress, 60, 10**9, 10.0)  # type: ignore[arg-type]
    with pytest.raises(InvalidEvent) as err:
        await refusing.transcribe(EVENT, tracks, "t-1")
    assert err.value.reason_code == "recording_too_long"
    assert "TRANSCRIBER_MAX_AUDIO_SECONDS (10 s)" in err.value.reason
    assert decoded == []
    assert stt.calls == 0
    assert await progress.status("s-long") is None

    allowing = Recordings(files, stt, progress, 60, 10**9, 12.5)  # type: ignore[arg-type]
    await allowing.transcribe(EVENT, tracks, "t-1")
    assert len(decoded) == 2
    assert stt.calls == 2
    await progress.forget("s-long")


@pytest.mark.asyncio
async def test_audio_that_does_not_declare_its_length_is_measured_once_decoded(
    progress: Progress, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio, "declared_seconds", lambda body: None)
    files = Files({"a.wav": tone_wav(6)})
    stt = CountingSpeechToText()
    recordings = Recordings(files, stt, progress, 60, 10**9, 5.0)  # type: ignore[arg-type]

    with pytest.raises(InvalidEvent) as err:
        await recordings.transcribe(EVENT, [Track("b", "a.wav", None)], "t-1")
    assert err.value.reason_code == "recording_too_long"
    assert stt.calls == 0
