"""Speech-to-text benchmark: ``python -m notewell_tools.bench_stt``.

Five AnnoMI sessions are spoken by espeak-ng, clinician and client in two voices, each
utterance placed at its AnnoMI timestamp on its speaker's own track. The transcriber's
own code (chunking, faster-whisper with the packaged tiny.en model, hallucination
filter, speaker attribution) transcribes the two tracks, and then their mix. Reported:
word error rate, speaker-attribution accuracy over correctly recognised words, and the
real-time factor (processing seconds per second of session).
"""

from __future__ import annotations

import argparse
import io
import re
import shutil
import subprocess
import sys
import time
import wave
from dataclasses import dataclass

import numpy as np

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.transcriber import audio
from notewell.transcriber.recordings import (
    SpokenWord,
    attribute_mixed,
    chunk_words,
    utterances,
)
from notewell.transcriber.speech_to_text import LocalWhisper, Word
from notewell_tools.sessions import load_annomi

SESSIONS = (3, 42, 51, 70, 81)
VOICES = {"clinician": "en-us+m3", "client": "en-us+f3"}
ROLES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
}
WORDS_PER_MINUTE = 165
CHUNK_SECONDS = 120.0
CONTRACTIONS = {
    "i'm": "i am",
    "it's": "it is",
    "that's": "that is",
    "don't": "do not",
    "can't": "cannot",
    "you're": "you are",
    "i've": "i have",
    "what's": "what is",
    "didn't": "did not",
    "doesn't": "does not",
    "won't": "will not",
    "isn't": "is not",
    "we're": "we are",
    "they're": "they are",
    "i'll": "i will",
    "let's": "let us",
    "there's": "there is",
    "wasn't": "was not",
    "you've": "you have",
    "gonna": "going to",
    "wanna": "want to",
    "okay": "ok",
}
FILLERS = frozenset({"um", "uh", "hmm", "mm", "mhm", "hm", "ah", "oh", "er", "erm"})
NUMBERS = {
    word: str(n)
    for n, word in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}


@dataclass(frozen=True)
class Result:
    session: int
    seconds: float
    reference_words: int
    wer: float
    attribution: float
    rtf: float
    cpu_rtf: float
    mixed_wer: float
    mixed_attribution: float
    mixed_rtf: float


def speak(text: str, voice: str) -> np.ndarray:
    # Text on stdin: an utterance may begin with "-", which would read as an option.
    espeak = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(WORDS_PER_MINUTE), "--stdout"],
        input=text.encode(),
        check=True,
        capture_output=True,
    )
    sox = subprocess.run(
        [
            "sox",
            "-t",
            "wav",
            "-",
            "-r",
            str(audio.SAMPLE_RATE),
            "-c",
            "1",
            "-b",
            "16",
            "-t",
            "wav",
            "-",
        ],
        input=espeak.stdout,
        check=True,
        capture_output=True,
    )
    with wave.open(io.BytesIO(sox.stdout), "rb") as reader:
        pcm = np.frombuffer(reader.readframes(reader.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768


def synthesize(session: int) -> tuple[dict[str, np.ndarray], list[tuple[str, str]]]:
    """One track per speaker and the reference (role, text) turns in time order.

    espeak-ng often speaks longer than the person did; an utterance that would start
    before the previous one ends is pushed back to a quarter second after it, so the
    speakers take turns as in the recording instead of talking over each other.
    """
    turns = load_annomi(session).transcript["turns"]
    placed: list[tuple[str, int, np.ndarray, str]] = []
    free_at = 0
    for turn in turns:
        # Transcribers' notes such as "[unintelligible 00:06:00]" were never said.
        role, text = str(turn["speaker"]), re.sub(r"\[[^\]]*\]", " ", str(turn["text"]))
        if not normalize(text):
            continue
        samples = speak(text, VOICES[role])
        start = max(int(float(turn["start"]) * audio.SAMPLE_RATE), free_at)
        free_at = start + len(samples) + audio.SAMPLE_RATE // 4
        placed.append((role, start, samples, text))
    total = max(start + len(s) for _, start, s, _ in placed) + audio.SAMPLE_RATE
    tracks = {role: np.zeros(total, dtype=np.float32) for role in VOICES}
    for role, start, samples, _ in placed:
        tracks[role][start : start + len(samples)] += samples
    return tracks, [(role, text) for role, _, _, text in placed]


def normalize(text: str) -> list[str]:
    """Words for scoring, normalised as Whisper's own evaluations do: lower case, no
    punctuation, contractions spelled out, numbers as digits, hesitations dropped."""
    lowered = text.lower().replace("-", " ")
    lowered = re.sub(r"[’`]", "'", lowered)
    for short, long in CONTRACTIONS.items():
        lowered = re.sub(rf"\b{re.escape(short)}\b", long, lowered)
    words = re.sub(r"[^a-z0-9' ]", " ", lowered).replace(" '", " ").split()
    return [NUMBERS.get(w, w) for w in words if w not in FILLERS]


def align(
    reference: list[str], hypothesis: list[str]
) -> tuple[int, list[tuple[int, int]]]:
    """Edit distance and the (reference, hypothesis) index pairs of equal words."""
    rows, cols = len(reference) + 1, len(hypothesis) + 1
    cost = np.zeros((rows, cols), dtype=np.int32)
    cost[:, 0] = np.arange(rows)
    cost[0, :] = np.arange(cols)
    for i in range(1, rows):
        for j in range(1, cols):
            cost[i, j] = min(
                cost[i - 1, j] + 1,
                cost[i, j - 1] + 1,
                cost[i - 1, j - 1] + (reference[i - 1] != hypothesis[j - 1]),
            )
    pairs: list[tuple[int, int]] = []
    i, j = rows - 1, cols - 1
    while i > 0 and j > 0:
        same = reference[i - 1] == hypothesis[j - 1]
        if cost[i, j] == cost[i - 1, j - 1] + (not same):
            if same:
                pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif cost[i, j] == cost[i - 1, j] + 1:
            i -= 1
        else:
            j -= 1
    return int(cost[-1, -1]), pairs[::-1]


def score(turns: list[tuple[str, str]], spoken: list[SpokenWord]) -> tuple[float, float]:
    reference: list[tuple[int, str]] = [
        (ROLES[role], word) for role, text in turns for word in normalize(text)
    ]
    hypothesis: list[tuple[int, str]] = [
        (u.role, word) for u in utterances(spoken) for word in normalize(u.text)
    ]
    errors, pairs = align([w for _, w in reference], [w for _, w in hypothesis])
    right = sum(reference[i][0] == hypothesis[j][0] for i, j in pairs)
    return errors / max(1, len(reference)), right / max(1, len(pairs))


def transcribe(whisper: LocalWhisper, samples: np.ndarray) -> list[Word]:
    return [
        word
        for start, end in audio.chunk_bounds(samples, CHUNK_SECONDS)
        for word in chunk_words(whisper, samples, start, end)
    ]


def run(session: int, whisper: LocalWhisper) -> Result:
    tracks, turns = synthesize(session)
    seconds = len(tracks["clinician"]) / audio.SAMPLE_RATE

    began, cpu_began = time.perf_counter(), time.process_time()
    spoken = [
        SpokenWord(ROLES[role], word)
        for role, samples in tracks.items()
        for word in transcribe(whisper, samples)
    ]
    two_track_seconds = time.perf_counter() - began
    cpu_seconds = time.process_time() - cpu_began
    wer, attribution = score(turns, spoken)

    mixed = tracks["clinician"] + tracks["client"]
    began = time.perf_counter()
    mixed_spoken = attribute_mixed(mixed, transcribe(whisper, mixed))
    mixed_seconds = time.perf_counter() - began
    mixed_wer, mixed_attribution = score(turns, mixed_spoken)

    reference_words = sum(len(normalize(text)) for _, text in turns)
    return Result(
        session,
        seconds,
        reference_words,
        wer,
        attribution,
        two_track_seconds / seconds,
        cpu_seconds / seconds,
        mixed_wer,
        mixed_attribution,
        mixed_seconds / seconds,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sessions",
        type=int,
        nargs="+",
        default=list(SESSIONS),
        help="AnnoMI transcript ids",
    )
    args = parser.parse_args(argv)
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        print(
            "needs espeak-ng and sox: apt-get install -y espeak-ng sox", file=sys.stderr
        )
        return 2

    whisper = LocalWhisper("", threads=2, compute_type="int8", beam_size=1)
    # Loading the model is start-up cost, not transcription: keep it out of the RTF.
    whisper.transcribe(np.zeros(audio.SAMPLE_RATE, dtype=np.float32))
    results = [run(session, whisper) for session in args.sessions]

    print(
        f"{'session':>8} {'audio s':>8} {'words':>6} | {'WER':>6} {'attrib':>7} "
        f"{'RTF':>6} {'CPU RTF':>7} | {'mix WER':>7} {'mix att':>7} {'mix RTF':>7}"
    )
    for r in results:
        print(
            f"{r.session:>8} {r.seconds:>8.1f} {r.reference_words:>6} | "
            f"{r.wer:>6.1%} {r.attribution:>7.1%} {r.rtf:>6.3f} {r.cpu_rtf:>7.3f} | "
            f"{r.mixed_wer:>7.1%} {r.mixed_attribution:>7.1%} {r.mixed_rtf:>7.3f}"
        )
    words = sum(r.reference_words for r in results)
    seconds = sum(r.seconds for r in results)

    def pooled(field: str) -> float:
        return sum(getattr(r, field) * r.reference_words for r in results) / words

    def rtf(field: str) -> float:
        return sum(getattr(r, field) * r.seconds for r in results) / seconds

    print(
        f"{'all':>8} {seconds:>8.1f} {words:>6} | {pooled('wer'):>6.1%} "
        f"{pooled('attribution'):>7.1%} {rtf('rtf'):>6.3f} {rtf('cpu_rtf'):>7.3f} | "
        f"{pooled('mixed_wer'):>7.1%} {pooled('mixed_attribution'):>7.1%} "
        f"{rtf('mixed_rtf'):>7.3f}"
    )
    print(
        "two-track: one track per speaker; mix: both tracks summed into one, speakers "
        "separated by pitch/spectrum clustering. WER and attribution are pooled over "
        "words; RTF is wall-clock processing time over session length, CPU RTF the "
        "CPU seconds used (both threads) per second of session (int8, 2 threads)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
