"""Rules of the recording path that need no speech model: subtitle formats, manifests,
hallucination filtering, chunking, and resuming after a crash (against real MongoDB)."""

from __future__ import annotations

import io
import itertools
import wave
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from pymongo import AsyncMongoClient

from notewell.common.v1.common_pb2 import Modality, SpeakerRole
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.events import InvalidEvent
from notewell.transcriber import (
    audio,
    hallucinations,
    partner_transcript,
    recording_manifest,
)
from notewell.transcriber.progress import Progress
from notewell.transcriber.recording_manifest import Track
from notewell.transcriber.recordings import Recordings
from notewell.transcriber.settings import Settings
from notewell.transcriber.speech_to_text import Segment, Word

CLINICIAN = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
SECRET = "the walrus sings"

WEBVTT = f"""WEBVTT

NOTE partner export

1
00:00:01.000 --> 00:00:04.500 align:start
<v Clinician>How has the week been?</v>

2
00:00:05.000 --> 00:00:09.250
<v.loud Client>Hard. I kept thinking about {SECRET} &amp; work.</v>

00:01:02.000 --> 01:00:03.000
<v Therapist>Let us <i>pause</i> there.
""".encode()

SRT = f"""1
00:00:01,000 --> 00:00:04,500
Clinician: How has the week been?

2
00:00:05,000 --> 00:00:09,250
[Client] Hard. I kept thinking
about {SECRET} & work.

3
00:01:02,000 --> 01:00:03,000
THERAPIST: Let us pause there.
""".encode()


def test_webvtt_and_srt_give_the_same_transcript() -> None:
    from_vtt = partner_transcript.parse(WEBVTT, "s-1", "t-1")
    from_srt = partner_transcript.parse(
        b"\xef\xbb\xbf" + SRT.replace(b"\n", b"\r\n"), "s-1", "t-1"
    )

    assert from_vtt == from_srt
    timings = [
        (u.id, u.role, u.start_seconds, u.end_seconds) for u in from_vtt.utterances
    ]
    assert timings == [
        ("u0", CLINICIAN, 1.0, 4.5),
        ("u1", CLIENT, 5.0, 9.25),
        ("u2", CLINICIAN, 62.0, 3603.0),
    ]
    assert from_vtt.utterances[1].text == f"Hard. I kept thinking about {SECRET} & work."
    assert from_vtt.utterances[2].text == "Let us pause there."


@pytest.mark.parametrize(
    "body",
    [
        b"WEBVTT\n",
        b"WEBVTT\n\n00:01.000 --> 00:02.000\n" + SECRET.encode() + b"\n",
        b"WEBVTT\n\n00:01.000 --> 00:02.000\n<v Dr Okapi>" + SECRET.encode() + b"\n",
        b"WEBVTT\n\n00:05.000 --> 00:02.000\n<v Client>" + SECRET.encode() + b"\n",
        b"WEBVTT\n\n00:01.000 -> 00:02.000\n<v Client>" + SECRET.encode() + b"\n",
        b"WEBVTT\n\n00:01.000 --> 00:02.000\n<v Client></v>\n",
        b"1\n00:00:01,000 --> 00:00:02,000\n" + SECRET.encode() + b"\n",
        b"1\n00:00:01,000 --> 00:00:02,000\nOkapi: " + SECRET.encode() + b"\n",
        b"x\n00:00:01,000 --> 00:00:02,000\nClient: " + SECRET.encode() + b"\n",
        b"1\n00:00:01,000 --> 00:00:02,000\n",
        b"\xff\xfe" + SECRET.encode(),
    ],
)
def test_malformed_subtitles_are_unreadable_without_quoting(body: bytes) -> None:
    with pytest.raises(InvalidEvent) as caught:
        partner_transcript.parse(body, "s-1", "t-1")

    assert caught.value.reason_code == "unreadable_transcript"
    assert "walrus" not in str(caught.value) and "Okapi" not in str(caught.value)


def test_a_manifest_lists_tracks_with_roles() -> None:
    body = (
        b'{"tracks": [{"uri": "s3://b/a.webm", "role": "clinician"},'
        b' {"uri": "s3://b/c/d.m4a", "role": "client"}]}'
    )

    assert recording_manifest.parse(body) == [
        Track("b", "a.webm", CLINICIAN),
        Track("b", "c/d.m4a", CLIENT),
    ]
    assert recording_manifest.parse(b'{"tracks": [{"uri": "s3://b/room.mp3"}]}') == [
        Track("b", "room.mp3", None)
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"tracks": []}',
        b'{"tracks": [{"uri": "https://b/a.wav", "role": "client"}]}',
        b'{"tracks": [{"uri": "s3://b/a.wav", "role": "okapi"}]}',
        b'{"tracks": [{"uri": "s3://b/a.wav"},'
        b' {"uri": "s3://b/b.wav", "role": "client"}]}',
        b'{"tracks": ["s3://b/a.wav"]}',
    ],
)
def test_bad_manifests_are_refused(body: bytes) -> None:
    with pytest.raises(InvalidEvent) as caught:
        recording_manifest.parse(body)

    assert caught.value.reason_code == "bad_manifest"
    assert "okapi" not in caught.value.reason


def segment(
    text: str, no_speech: float = 0.05, logprob: float = -0.2, ratio: float = 1.2
) -> Segment:
    words = tuple(Word(i, i + 0.5, " " + w) for i, w in enumerate(text.split()))
    return Segment(0.0, len(words), " " + text, words, no_speech, logprob, ratio)


def test_hallucinations_are_dropped_and_speech_kept() -> None:
    kept = hallucinations.keep(
        [
            segment("I slept badly again."),
            segment("Thank you.", no_speech=0.65),
            segment("Thanks for watching!", logprob=-0.8),
            segment("Subtitles by the Amara.org community"),
            segment("so so so so so so", ratio=3.1),
            segment("mumble", no_speech=0.8, logprob=-1.2),
            segment("garbled", logprob=-1.9),
            segment("Thank you.", no_speech=0.45, logprob=-0.3),
            segment("I mean I mean I mean I mean it was fine"),
            segment("I mean it was fine"),
        ]
    )

    assert [s.text.strip() for s in kept] == [
        "I slept badly again.",
        "Thank you.",
        "I mean it was fine",
    ]
    assert [w.start for w in kept[2].words] == [0, 1, 8, 9, 10]


def test_chunks_cover_the_audio_and_end_in_quiet() -> None:
    rng = np.random.default_rng(7)
    samples = rng.normal(0, 0.3, 16_000 * 100).astype(np.float32)
    for quiet in (27, 52, 77):
        samples[quiet * 16_000 : (quiet + 1) * 16_000] = 0

    bounds = audio.chunk_bounds(samples, 30)

    assert bounds[0][0] == 0 and bounds[-1][1] == len(samples)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(bounds))
    for _, end in bounds[:-1]:
        assert any(q * 16_000 <= end <= (q + 1) * 16_000 for q in (27, 52, 77))
    assert bounds == audio.chunk_bounds(samples, 30)


class ToneSpotter:
    """Stands in for Whisper: one word where each chunk's tone starts; can crash."""

    def __init__(self, crash_on_call: int = 0) -> None:
        self.calls = 0
        self._crash_on_call = crash_on_call

    def transcribe(self, samples: Any) -> list[Segment]:
        self.calls += 1
        if self.calls == self._crash_on_call:
            raise RuntimeError("worker died")
        loud = np.flatnonzero(np.abs(samples) > 0.1)
        if loud.size == 0:
            return []
        start = loud[0] / 16_000
        return [Segment(start, start + 1, " tone", (Word(start, start + 1, " tone"),))]


class OneFile:
    def __init__(self, body: bytes) -> None:
        self._body = body

    async def read(self, bucket: str, key: str, *args: Any, **kwargs: Any) -> bytes:
        return self._body


def tones_wav(starts: list[int], seconds: int) -> bytes:
    samples = np.zeros(16_000 * seconds, dtype=np.float32)
    t = np.arange(16_000) / 16_000
    for start in starts:
        samples[start * 16_000 : (start + 1) * 16_000] = 0.5 * np.sin(2 * np.pi * 300 * t)
    out = io.BytesIO()
    with wave.open(out, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(16_000)
        writer.writeframes((samples * 32767).astype("<i2").tobytes())
    return out.getvalue()


@pytest.fixture
async def database(service_env: dict[str, str]) -> AsyncIterator[Any]:
    settings = Settings(**service_env)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        yield client[settings.mongodb_database]
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_a_crash_mid_recording_resumes_without_losing_or_repeating(
    service_env: dict[str, str], database: Any
) -> None:
    sealer = Sealer(master_key_from_settings(Settings(**service_env)))
    progress = Progress(database, sealer)
    files = OneFile(tones_wav([2, 12, 22, 32], 40))
    event = SessionEnded(
        session_id="s-crash", clinician_id="dr-1", modality=Modality.MODALITY_IN_PERSON
    )
    track = [Track("b", "k.wav", CLINICIAN)]

    crashing = ToneSpotter(crash_on_call=3)
    first = Recordings(files, crashing, progress, 10, 10**9)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError):
        await first.transcribe(event, track, "t-1")
    assert await database["transcription_chunks"].count_documents({}) == 2
    status = await progress.status("s-crash")
    assert status is not None and 40 <= status["percent"] <= 60

    resumed = ToneSpotter()
    second = Recordings(files, resumed, progress, 10, 10**9)  # type: ignore[arg-type]
    transcript = await second.transcribe(event, track, "t-1")

    assert resumed.calls == 2
    assert [round(u.start_seconds) for u in transcript.utterances] == [2, 12, 22, 32]
    assert [u.text for u in transcript.utterances] == ["tone"] * 4
    assert {u.role for u in transcript.utterances} == {CLINICIAN}

    await progress.forget("s-crash")
    assert await database["transcription_chunks"].count_documents({}) == 0
    assert await progress.status("s-crash") is None
