"""Turning a session's audio tracks into a ``Transcript``.

Each track is decoded, cut into chunks at quiet moments and transcribed chunk by chunk;
each chunk's words are stored before the next one starts (see ``progress``). Words get
their speaker from their track, or, on a mixed track, from ``speakers``. Consecutive
words of one speaker form an utterance until the speaker changes or pauses for longer
than ``PAUSE_SECONDS``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform.events import InvalidEvent
from notewell.platform.logs import get_logger
from notewell.transcriber import audio, hallucinations, recording_manifest, speakers
from notewell.transcriber.progress import Progress
from notewell.transcriber.recording_manifest import Track
from notewell.transcriber.speech_to_text import SpeechToText, Word
from notewell.transcriber.transcript_files import TranscriptFiles

log = get_logger(__name__)

PAUSE_SECONDS = 1.5


@dataclass(frozen=True)
class SpokenWord:
    role: SpeakerRole.ValueType
    word: Word


class Recordings:
    """Reads recordings from S3 and transcribes them with resumable progress."""

    def __init__(
        self,
        files: TranscriptFiles,
        stt: SpeechToText,
        progress: Progress,
        chunk_seconds: float,
        max_track_bytes: int,
        max_audio_seconds: float = float("inf"),
    ) -> None:
        self._files = files
        self._stt = stt
        self._progress = progress
        self._chunk_seconds = chunk_seconds
        self._max_track_bytes = max_track_bytes
        self._max_audio_seconds = max_audio_seconds

    async def tracks(self, bucket: str, key: str) -> list[Track]:
        """The tracks a recording_uri names (reading its manifest if it is one)."""
        if not recording_manifest.is_manifest(key):
            return [Track(bucket, key, None)]
        body = await self._files.read(
            bucket,
            key,
            recording_manifest.MAX_MANIFEST_BYTES,
            what="recording manifest",
            reason_code="unreadable_recording",
        )
        return recording_manifest.parse(body)

    async def delete(self, objects: list[tuple[str, str]]) -> None:
        for bucket, key in objects:
            await self._files.delete(bucket, key)

    async def transcribe(
        self, event: SessionEnded, tracks: list[Track], transcript_id: str
    ) -> Transcript:
        session_id = event.session_id
        done = await self._progress.done_chunks(session_id)
        bodies = []
        for index, track in enumerate(tracks):
            bodies.append(
                await self._files.read(
                    track.bucket,
                    track.key,
                    self._max_track_bytes,
                    what=f"recording track {index}",
                    reason_code="unreadable_recording",
                )
            )
        # Refused before decoding where the containers say how long they are; the
        # decoded length is checked too, for containers that do not say.
        declared = [await asyncio.to_thread(audio.declared_seconds, b) for b in bodies]
        self._check_length(sum(seconds or 0.0 for seconds in declared))
        decoded = []
        for index in range(len(bodies)):
            body, bodies[index] = bodies[index], b""
            what = f"recording track {index}"
            decoded.append(await asyncio.to_thread(audio.decode, body, what))
            del body
        self._check_length(sum(len(samples) for samples in decoded) / audio.SAMPLE_RATE)

        plans = [audio.chunk_bounds(samples, self._chunk_seconds) for samples in decoded]
        total = sum(len(samples) for samples in decoded) / audio.SAMPLE_RATE
        finished = sum(
            (end - start) / audio.SAMPLE_RATE
            for t, plan in enumerate(plans)
            for c, (start, end) in enumerate(plan)
            if (t, c) in done
        )
        spoken: list[SpokenWord] = []
        tracks_and_plans = zip(tracks, decoded, plans, strict=True)
        for t, (track, samples, plan) in enumerate(tracks_and_plans):
            words: list[Word] = []
            for c, (start, end) in enumerate(plan):
                if (t, c) not in done:
                    chunk = await asyncio.to_thread(
                        chunk_words, self._stt, samples, start, end
                    )
                    await self._progress.save_chunk(session_id, t, c, chunk)
                    done[(t, c)] = chunk
                    finished += (end - start) / audio.SAMPLE_RATE
                    await self._progress.report(
                        session_id, event.clinician_id, finished, total
                    )
                    log.info(
                        "recording_chunk_transcribed",
                        extra={"session_id": session_id, "track": t, "chunk": c},
                    )
                words.extend(done[(t, c)])
            spoken.extend(await self._attribute(track, samples, words))

        transcript = Transcript(transcript_id=transcript_id, session_id=session_id)
        transcript.utterances.extend(utterances(spoken))
        return transcript

    def _check_length(self, seconds: float) -> None:
        if seconds > self._max_audio_seconds:
            raise InvalidEvent(
                "recording_too_long",
                "the recording's tracks together last longer than "
                f"TRANSCRIBER_MAX_AUDIO_SECONDS ({self._max_audio_seconds:g} s)",
            )

    async def _attribute(
        self, track: Track, samples: audio.Samples, words: list[Word]
    ) -> list[SpokenWord]:
        if track.role is not None:
            return [SpokenWord(track.role, word) for word in words]
        return await asyncio.to_thread(attribute_mixed, samples, words)


def chunk_words(
    stt: SpeechToText, samples: audio.Samples, start: int, end: int
) -> list[Word]:
    """The words spoken in samples[start:end], timed from the start of ``samples``,
    with Whisper's hallucinations removed. Blocking."""
    offset = start / audio.SAMPLE_RATE
    segments = hallucinations.keep(stt.transcribe(samples[start:end]))
    return [
        Word(word.start + offset, word.end + offset, word.text)
        for segment in segments
        for word in segment.words
    ]


def attribute_mixed(samples: audio.Samples, words: list[Word]) -> list[SpokenWord]:
    """Words of a mixed track with the speaker ``speakers`` tells apart. Blocking."""
    regions = speakers.voice_regions(samples)
    voiced = [(speakers.voice_at(regions, w.start, w.end), w) for w in words]
    # Voices stand in for roles while turns are formed, to find the clinician's voice.
    turns = utterances([SpokenWord(voice, word) for voice, word in voiced])
    clinician = speakers.clinician_voice([(int(u.role), u.text) for u in turns])
    return [SpokenWord(speakers.role_of(voice, clinician), w) for voice, w in voiced]


def utterances(spoken: list[SpokenWord]) -> list[Utterance]:
    """Words grouped into turns, numbered "u0", "u1", ... in time order."""
    ordered = sorted(spoken, key=lambda s: (s.word.start, s.word.end))
    turns: list[list[SpokenWord]] = []
    for item in ordered:
        last = turns[-1][-1] if turns else None
        if (
            last is not None
            and last.role == item.role
            and item.word.start - last.word.end <= PAUSE_SECONDS
        ):
            turns[-1].append(item)
        else:
            turns.append([item])
    result: list[Utterance] = []
    for turn in turns:
        text = " ".join("".join(s.word.text for s in turn).split())
        if not text:
            continue
        result.append(
            Utterance(
                id=f"u{len(result)}",
                role=turn[0].role,
                start_seconds=round(turn[0].word.start, 2),
                end_seconds=round(turn[-1].word.end, 2),
                text=text,
            )
        )
    return result
