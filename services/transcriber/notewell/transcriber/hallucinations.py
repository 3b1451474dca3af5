"""Dropping what Whisper writes when nobody is speaking.

On silence and noise Whisper tends to produce a phantom "thank you", subtitle credits
from its training data, or one phrase repeated many times. Silence is mostly removed
before decoding (the VAD filter); what remains is judged here by Whisper's own figures
and a list of known phantom phrases.
"""

from __future__ import annotations

import re
from dataclasses import replace

from notewell.transcriber.speech_to_text import Segment, Word

# Whisper's reference decoder treats these as "no speech" / "gibberish".
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
VERY_LOW_LOGPROB = -1.6
MAX_COMPRESSION_RATIO = 2.4

# Dropped whenever they make up a whole segment that Whisper is not sure of.
PHANTOM_PHRASES = frozenset(
    {
        "thank you",
        "thank you very much",
        "thanks for watching",
        "thank you for watching",
        "please subscribe",
        "bye",
        "you",
        "so",
        "i'll see you next time",
        "see you next time",
    }
)
# faster-whisper gives no_speech_prob per 30 s window, shared by its segments, and real
# speech often scores 0.3-0.5: only a high value marks a phrase as unsure.
UNSURE_NO_SPEECH_PROB = 0.6
UNSURE_LOGPROB = -0.6

# Dropped in any segment: credits learned from subtitle files.
CREDIT_PATTERNS = re.compile(
    r"subtitles by|subtitled by|captions by|transcribed by|translated by|amara\.org"
    r"|www\.|\.com\b|copyright ©",
    re.IGNORECASE,
)

# A run of the same 1-6 words at least this many times in a row is a decoding loop.
LOOP_REPEATS = 3


def keep(segments: list[Segment]) -> list[Segment]:
    """The segments that are likely speech, with word loops collapsed."""
    kept: list[Segment] = []
    for segment in segments:
        if not _plausible(segment):
            continue
        segment = _without_loops(segment)
        if kept and _normalized(kept[-1].text) == _normalized(segment.text):
            # The same sentence twice in a row is almost always a repeat hallucination.
            continue
        if _normalized(segment.text):
            kept.append(segment)
    return kept


def _plausible(segment: Segment) -> bool:
    if segment.no_speech_prob > NO_SPEECH_PROB and segment.avg_logprob < LOW_LOGPROB:
        return False
    if segment.avg_logprob < VERY_LOW_LOGPROB:
        return False
    if segment.compression_ratio > MAX_COMPRESSION_RATIO:
        return False
    if CREDIT_PATTERNS.search(segment.text):
        return False
    unsure = (
        segment.no_speech_prob > UNSURE_NO_SPEECH_PROB
        or segment.avg_logprob < UNSURE_LOGPROB
    )
    return not (unsure and _normalized(segment.text) in PHANTOM_PHRASES)


def _without_loops(segment: Segment) -> Segment:
    words = list(segment.words)
    keys = [_normalized(word.text) for word in words]
    index = 0
    out: list[Word] = []
    while index < len(words):
        size = _loop_size(keys, index)
        if size:
            out.extend(words[index : index + size])
            index = _loop_end(keys, index, size)
        else:
            out.append(words[index])
            index += 1
    if len(out) == len(words):
        return segment
    return replace(segment, words=tuple(out), text="".join(w.text for w in out))


def _loop_size(keys: list[str], at: int) -> int:
    for size in range(1, 7):
        if _loop_end(keys, at, size) - at >= size * LOOP_REPEATS:
            return size
    return 0


def _loop_end(keys: list[str], at: int, size: int) -> int:
    pattern = keys[at : at + size]
    if len(pattern) < size:
        return at
    end = at
    while keys[end : end + size] == pattern:
        end += size
    return end


def _normalized(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s']", " ", text.lower()).split())
