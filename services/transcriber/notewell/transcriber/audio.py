"""Decoding audio tracks and cutting them into chunks at quiet moments.

Decoding goes through PyAV (FFmpeg's libraries, bundled with its wheel), so WAV, MP3,
M4A/AAC, WebM/Opus, Ogg and FLAC all read the same way, as 16 kHz mono float samples.
"""

from __future__ import annotations

import io

import av
import numpy as np
import numpy.typing as npt
from faster_whisper.audio import decode_audio

from notewell.platform.events import InvalidEvent

SAMPLE_RATE = 16_000
Samples = npt.NDArray[np.float32]

# A chunk ends at the quietest 200 ms of its last 20 seconds, so words are not cut.
_QUIET_WINDOW = SAMPLE_RATE // 5
_SEARCH_SECONDS = 20.0


def decode(body: bytes, what: str) -> Samples:
    """16 kHz mono samples of an audio file; InvalidEvent when it does not decode."""
    try:
        samples = decode_audio(io.BytesIO(body), sampling_rate=SAMPLE_RATE)
    except Exception:
        # PyAV raises many error types, and their messages may quote metadata.
        raise InvalidEvent(
            "unreadable_recording", f"{what} is not decodable audio"
        ) from None
    if samples.size == 0:
        raise InvalidEvent("unreadable_recording", f"{what} has no audio")
    return np.asarray(samples, dtype=np.float32)


def declared_seconds(body: bytes) -> float | None:
    """How long an audio file says it lasts, read from its container without decoding
    the audio; None when the container does not say or cannot be opened (decoding then
    tells)."""
    try:
        with av.open(io.BytesIO(body), mode="r") as container:
            if container.duration is not None and container.duration > 0:
                return container.duration / av.time_base
            streams = [
                s.duration * s.time_base
                for s in container.streams.audio
                if s.duration is not None and s.time_base is not None
            ]
    except Exception:
        return None
    return float(max(streams)) if streams else None


def chunk_bounds(samples: Samples, chunk_seconds: float) -> list[tuple[int, int]]:
    """(start, end) sample offsets covering ``samples`` in order, each about
    ``chunk_seconds`` long. Deterministic: the same audio always gives the same chunks,
    which is what lets a resumed transcription skip the chunks it finished."""
    target = int(chunk_seconds * SAMPLE_RATE)
    search = min(int(_SEARCH_SECONDS * SAMPLE_RATE), target // 2)
    bounds: list[tuple[int, int]] = []
    start = 0
    total = len(samples)
    while total - start > target + search:
        end = _quietest(samples, start + target - search, start + target)
        bounds.append((start, end))
        start = end
    bounds.append((start, total))
    return bounds


def _quietest(samples: Samples, lo: int, hi: int) -> int:
    window = samples[lo:hi]
    frames = len(window) // _QUIET_WINDOW
    if frames == 0:
        return hi
    energy = np.square(window[: frames * _QUIET_WINDOW]).reshape(frames, -1).mean(axis=1)
    # Among equally quiet moments the latest wins, keeping chunks near their length.
    quiet = frames - 1 - int(np.argmin(energy[::-1]))
    return lo + quiet * _QUIET_WINDOW + _QUIET_WINDOW // 2
