"""The session transcript a transcript.ready event carries, and how prompts show it:
compacted, so a small model reads fewer tokens for the same content."""

from __future__ import annotations

import re
from dataclasses import dataclass

from google.protobuf.message import DecodeError

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.events.v1.events_pb2 import TranscriptReady
from notewell.platform.crypto import DecryptionError, Sealer
from notewell.platform.events import InvalidEvent

# Characters per token when estimating a prompt's size. Conversational English runs
# at about 3.5 characters per token in the local model's tokenizer, and utterance ids
# cost a token per digit, so 3 errs on the side of a prompt that fits.
CHARS_PER_TOKEN = 3

# Prompts explain them once: "T" is the therapist, "C" the client, "O" anyone else.
_ROLE_LABELS = {
    SpeakerRole.SPEAKER_ROLE_CLINICIAN: "T",
    SpeakerRole.SPEAKER_ROLE_CLIENT: "C",
    SpeakerRole.SPEAKER_ROLE_OTHER: "O",
}

_REQUIRED = ("session_id", "clinician_id", "client_id")


def require_fields(event: TranscriptReady) -> None:
    """InvalidEvent unless the event names session, clinician, client and transcript."""
    for field in _REQUIRED:
        if not getattr(event, field):
            raise InvalidEvent("missing_field", f"field {field!r} is empty")
    if not event.HasField("transcript"):
        raise InvalidEvent("missing_field", "field 'transcript' is empty")


def open_transcript(event: TranscriptReady, sealer: Sealer) -> Transcript:
    """The event's transcript, or InvalidEvent when it can never be drafted."""
    require_fields(event)
    try:
        transcript = sealer.open(event.transcript, Transcript, context=event.session_id)
    except (DecryptionError, DecodeError):
        raise InvalidEvent(
            "unreadable_transcript", "sealed transcript could not be opened"
        ) from None

    if transcript.session_id and transcript.session_id != event.session_id:
        raise InvalidEvent("session_mismatch", "transcript belongs to another session")
    if not any(u.text.strip() for u in transcript.utterances):
        raise InvalidEvent("empty_transcript", "transcript has no spoken text")
    return transcript


@dataclass(frozen=True)
class Line:
    """One line of prompt material: a speaker's turn or a condensed point."""

    label: str
    text: str

    def render(self) -> str:
        return f"{self.label} {self.text}" if self.text else self.label


def material_chars(lines: list[Line]) -> int:
    """Characters the lines take in a prompt, one per line break included."""
    return sum(len(line.render()) + 1 for line in lines)


def split_at_spaces(text: str, size: int, cut_words: bool = False) -> list[str]:
    """``text`` whole when it is at most ``size`` characters, otherwise cut at spaces
    into pieces of at most ``size``. A single word longer than ``size`` stays whole,
    or with ``cut_words`` is cut where it must be."""
    if len(text) <= size:
        return [text]
    words: list[str] = []
    for word in text.split():
        if cut_words and len(word) > size:
            words.extend(word[i : i + size] for i in range(0, len(word), size))
        else:
            words.append(word)
    pieces: list[str] = []
    current = ""
    for word in words:
        if current and len(current) + 1 + len(word) > size:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        pieces.append(current)
    return pieces


def utterance_label(utterance: Utterance) -> str:
    """How a prompt introduces a turn: ``u12 C:``."""
    return f"{utterance.id} {_ROLE_LABELS.get(utterance.role, 'O')}:"


# Sounds that carry no content wherever they stand. Not "er" (the ER) nor "mm" after
# a number (millimetres).
_FILLER = re.compile(
    r"(?<![\w'-])(?<!\d )(?:u+h*m+|u+h+|e+r+m+|h+m+|m+h*m+|mm-hmm|uh-huh|a+h+)"
    r"(?![\w'-])[,.]?",
    re.IGNORECASE,
)
# "you know" / "I mean" only as asides set off by a comma, never "do you know" or
# "I mean it".
_ASIDE = re.compile(
    r"(?:,\s*)?(?:(?<![\w'])(?<!do )(?<!did )you know|(?<![\w'])I mean),\s*"
    r"|,\s*you know(?=\s*[.?!]|\s*$)",
    re.IGNORECASE,
)
# A word said again straight away ("I I think", "the, the"); "had had" and "that
# that" can be grammatical and are kept.
_REPEAT = re.compile(r"\b(\w+)(?:,?\s+\1\b)+", re.IGNORECASE)
_KEPT_REPEATS = frozenset({"had", "that"})
# A word broken off and started again: "wh- what", "I-I'm" (but "re-read" stays).
_BROKEN_OFF = re.compile(r"\b(\w{1,4})-(?:\s+(?=\1)|(?=\1\b))", re.IGNORECASE)
# A whole turn made only of acknowledgements.
_BACKCHANNEL = re.compile(
    r"(?:(?:mm hmm|uh huh|mhm|hmm|mm|yeah|yep|yes|okay|ok|right|alright|all right|"
    r"sure|i see|got it|oh|ah|so|cool|good)\s*)+",
)


def compact_text(text: str) -> str:
    """``text`` without fillers, asides, repeated and broken-off words."""
    text = _FILLER.sub(" ", text)
    text = _ASIDE.sub(" ", text)
    text = _BROKEN_OFF.sub("", text)
    text = _REPEAT.sub(_one_of_repeat, text)
    text = " ".join(text.split())
    text = re.sub(r"\s+([,.;:!?])", r"\1", text)
    text = re.sub(r",(?=[,.;:!?])", "", text)
    text = re.sub(r"^[,.;:]\s*", "", text)
    return text


def _one_of_repeat(match: re.Match[str]) -> str:
    word = match.group(1)
    return match.group(0) if word.casefold() in _KEPT_REPEATS else word


def is_backchannel(text: str) -> bool:
    """Whether a turn only acknowledges ("Mm-hmm.", "Yeah, okay.")."""
    words = " ".join(re.sub(r"[^\w\s]", " ", compact_text(text).casefold()).split())
    return bool(_BACKCHANNEL.fullmatch(words)) if words else True


def compact_lines(transcript: Transcript) -> list[Line]:
    """The transcript as prompt lines, its content whole in fewer tokens: fillers gone,
    acknowledgements that answer no question dropped, and a speaker's consecutive turns
    joined into one line under the first turn's id (``u4 C: First turn. Second
    turn.``), so what the model cites is always a real utterance of that stretch."""
    lines: list[Line] = []
    last_role: int | None = None
    last_text = ""
    for utterance in transcript.utterances:
        text = compact_text(utterance.text)
        asked = last_text.rstrip().endswith("?") and utterance.role != last_role
        if not text or (is_backchannel(utterance.text) and not asked):
            continue
        if lines and utterance.role == last_role:
            previous = lines[-1]
            lines[-1] = Line(previous.label, f"{previous.text} {text}")
        else:
            lines.append(Line(utterance_label(utterance), text))
        last_role, last_text = utterance.role, text
    return lines
