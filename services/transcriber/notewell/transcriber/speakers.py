"""Telling the two speakers of a mixed track apart, without trained weights.

No diarization model is available offline, so this is a small, honest substitute:
speech regions from the Silero VAD (split at pauses of 250 ms or more) are described by
their median pitch and their average spectral envelope, and cut into two groups by
k-means. It separates voices that differ clearly in pitch (most pairs of a man and a
woman, and synthetic voices) well; two similar voices, overlapping speech, or a turn
change without a pause are attributed poorly. Per-participant tracks avoid all of this.

Roles: the group whose turns ask more questions is the clinician (clinicians ask;
clients answer), and on a tie the group that speaks first, since the clinician usually
opens the session. Both are habits, not rules: a session led by the client's questions
gets its roles swapped.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from faster_whisper.vad import VadOptions, get_speech_timestamps

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.transcriber.audio import SAMPLE_RATE, Samples

_FRAME = 640  # 40 ms
_BANDS = 16
_MIN_PITCH, _MAX_PITCH = 60.0, 400.0


@dataclass(frozen=True)
class Region:
    start: float
    end: float
    # 0 or 1: which of the two voices speaks here.
    voice: int


def voice_regions(samples: Samples) -> list[Region]:
    """Speech regions of a mixed track, each given one of two voices."""
    spans = get_speech_timestamps(
        samples, VadOptions(min_silence_duration_ms=250, speech_pad_ms=100)
    )
    spans = [s for s in spans if s["end"] - s["start"] >= _FRAME * 3]
    if not spans:
        return []
    features = np.stack([_features(samples[s["start"] : s["end"]]) for s in spans])
    groups = _two_groups(features)
    return [
        Region(span["start"] / SAMPLE_RATE, span["end"] / SAMPLE_RATE, group)
        for span, group in zip(spans, groups, strict=True)
    ]


def voice_at(regions: list[Region], start: float, end: float) -> int:
    """The voice of the region overlapping [start, end] most, else the nearest one."""
    if not regions:
        return 0
    best = max(regions, key=lambda r: min(r.end, end) - max(r.start, start))
    if min(best.end, end) - max(best.start, start) > 0:
        return best.voice
    middle = (start + end) / 2
    return min(regions, key=lambda r: abs((r.start + r.end) / 2 - middle)).voice


def clinician_voice(turns: list[tuple[int, str]]) -> int:
    """Which voice is the clinician's, from the (voice, text) turns in time order."""
    questions = [0, 0]
    for voice, text in turns:
        questions[voice] += text.count("?")
    if questions[0] != questions[1]:
        return 0 if questions[0] > questions[1] else 1
    return turns[0][0] if turns else 0


def role_of(voice: int, clinician: int) -> SpeakerRole.ValueType:
    if voice == clinician:
        return SpeakerRole.SPEAKER_ROLE_CLINICIAN
    return SpeakerRole.SPEAKER_ROLE_CLIENT


def _features(region: Samples) -> npt.NDArray[np.float64]:
    frames = len(region) // _FRAME
    shaped = region[: frames * _FRAME].reshape(frames, _FRAME).astype(np.float64)
    energy = np.square(shaped).mean(axis=1)
    voiced = shaped[energy >= np.median(energy)]
    pitches = [p for p in (_pitch(frame) for frame in voiced) if p > 0]
    pitch = np.log(np.median(pitches)) if pitches else np.log(150.0)

    spectrum = np.abs(np.fft.rfft(voiced * np.hanning(_FRAME), axis=1)) + 1e-9
    edges = np.geomspace(2, spectrum.shape[1] - 1, _BANDS + 1).astype(int)
    bands = np.stack(
        [spectrum[:, a : max(b, a + 1)].mean(axis=1) for a, b in pairwise(edges)],
        axis=1,
    )
    envelope = np.log(bands).mean(axis=0)
    envelope -= envelope.mean()
    return np.concatenate([[pitch], envelope])


def _pitch(frame: npt.NDArray[np.float64]) -> float:
    frame = frame - frame.mean()
    correlation = np.correlate(frame, frame, mode="full")[len(frame) - 1 :]
    if correlation[0] <= 0:
        return 0.0
    lo, hi = int(SAMPLE_RATE / _MAX_PITCH), int(SAMPLE_RATE / _MIN_PITCH)
    lag = lo + int(np.argmax(correlation[lo:hi]))
    if correlation[lag] / correlation[0] < 0.3:
        return 0.0
    return SAMPLE_RATE / lag


def _two_groups(features: npt.NDArray[np.float64]) -> list[int]:
    if len(features) < 2:
        return [0] * len(features)
    scale = features.std(axis=0) + 1e-6
    points = (features - features.mean(axis=0)) / scale
    # Pitch tells voices apart best: after standardising, it weighs as much as a third
    # of the spectral envelope's bands together.
    points[:, 0] *= 3.0
    # Deterministic start: the two regions farthest apart in pitch.
    centres = points[[int(np.argmin(points[:, 0])), int(np.argmax(points[:, 0]))]]
    labels = np.zeros(len(points), dtype=int)
    for _ in range(50):
        distances = ((points[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        new_labels = distances.argmin(axis=1)
        if np.array_equal(new_labels, labels) and _ > 0:
            break
        labels = new_labels
        for group in (0, 1):
            if np.any(labels == group):
                centres[group] = points[labels == group].mean(axis=0)
    return [int(label) for label in labels]
