"""Test speech: an invented dialogue spoken by espeak-ng in two voices, and word error
rate. Imported by the recording tests (pytest puts this folder on sys.path)."""

from __future__ import annotations

import re
import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
# en-gb+f3 speaks at about the pitch of en-us+m3 in espeak-ng 1.51; en-us+f4 is clearly
# higher (about 180 Hz against 105 Hz), as a second voice in a real session usually is.
VOICES = {"clinician": "en-us+m3", "client": "en-us+f4"}
GAP_SECONDS = 0.9

DIALOGUE = [
    ("clinician", "Good morning. What would you like to talk about today?"),
    ("client", "I have been sleeping badly and my work feels very heavy."),
    ("clinician", "How many nights this week did you wake up early?"),
    ("client", "Almost every night I stay awake and worry about the garden project."),
    ("clinician", "That sounds hard. What helps you calm down when that happens?"),
    ("client", "A long walk in the evening helps a little bit."),
]


@dataclass(frozen=True)
class Line:
    role: str
    text: str
    start: float
    end: float


def require_tools() -> None:
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "espeak-ng", "sox"],
            check=True,
            capture_output=True,
        )


def speak(text: str, voice: str, folder: Path, name: str) -> np.ndarray:
    """16 kHz mono samples of ``text`` in ``voice`` (espeak-ng, resampled by sox)."""
    raw, converted = folder / f"{name}.raw.wav", folder / f"{name}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True
    )
    subprocess.run(
        ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(converted)],
        check=True,
    )
    with wave.open(str(converted), "rb") as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768


def dialogue_tracks(folder: Path) -> tuple[dict[str, np.ndarray], list[Line]]:
    """One track per role (silence while the other speaks) and the lines' times."""
    require_tools()
    pieces = [
        (role, text, speak(text, VOICES[role], folder, f"line{i}"))
        for i, (role, text) in enumerate(DIALOGUE)
    ]
    gap = int(GAP_SECONDS * RATE)
    total = sum(len(p) + gap for _, _, p in pieces) + gap
    tracks = {role: np.zeros(total, dtype=np.float32) for role in VOICES}
    lines, at = [], gap
    for role, text, samples in pieces:
        tracks[role][at : at + len(samples)] = samples
        lines.append(Line(role, text, at / RATE, (at + len(samples)) / RATE))
        at += len(samples) + gap
    return tracks, lines


def write_wav(samples: np.ndarray, path: Path) -> Path:
    pcm = (np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(RATE)
        writer.writeframes(pcm.tobytes())
    return path


def to_flac(wav: Path) -> Path:
    flac = wav.with_suffix(".flac")
    subprocess.run(["sox", str(wav), str(flac)], check=True)
    return flac


CONTRACTIONS = {
    "i'm": "i am",
    "i've": "i have",
    "what's": "what is",
    "it's": "it is",
    "that's": "that is",
    "don't": "do not",
    "can't": "cannot",
}


def words(text: str) -> list[str]:
    lowered = text.lower().replace("-", " ")
    for short, long in CONTRACTIONS.items():
        lowered = lowered.replace(short, long)
    return re.sub(r"[^a-z0-9' ]", " ", lowered).split()


def word_error_rate(reference: str, hypothesis: str) -> float:
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, start=1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)
            )
        previous = current
    return previous[-1] / max(1, len(ref))
