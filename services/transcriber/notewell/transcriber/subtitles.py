"""Reading partner transcripts sent as subtitles: WebVTT with voice tags and SRT.

WebVTT names the speaker with a voice span, ``<v Clinician>...``; SRT has no voice
markup, so the speaker is a prefix of the cue's text, ``Clinician: ...`` or
``[Client] ...``. Speaker names are roles, never people: clinician (or therapist) and
client (or patient). Reasons name a cue's position only, never what it says.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.platform.events import InvalidEvent

SPEAKER_NAMES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "therapist": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
    "patient": SpeakerRole.SPEAKER_ROLE_CLIENT,
}

_TIME = r"(?:(\d+):)?([0-5]\d):([0-5]\d)[.,](\d{3})"
_TIMING = re.compile(rf"^{_TIME}\s+-->\s+{_TIME}(?:\s+.*)?$")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]+)>")
_TAG = re.compile(r"</?[^>]*>")
_PREFIX = re.compile(r"^\s*(?:\[([^\]]+)\]|([A-Za-z]+)\s*:)\s*")


@dataclass(frozen=True)
class Cue:
    role: SpeakerRole.ValueType
    start: float
    end: float
    text: str


def parse_webvtt(text: str) -> list[Cue]:
    """The cues of a WebVTT file, one per voice span, in file order."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise _unreadable("file does not start with WEBVTT")
    cues: list[Cue] = []
    for number, block in enumerate(blocks[1:], start=1):
        if block[0].startswith(("NOTE", "STYLE", "REGION")):
            continue
        timing_at = 0 if "-->" in block[0] else 1
        if timing_at >= len(block) or "-->" not in block[timing_at]:
            raise _unreadable(f"cue {number} has no timing line")
        start, end = _timing(number, block[timing_at])
        cues.extend(_voice_cues(number, " ".join(block[timing_at + 1 :]), start, end))
    if not cues:
        raise _unreadable("file has no cues")
    return cues


def parse_srt(text: str) -> list[Cue]:
    """The cues of an SRT file, in file order."""
    cues: list[Cue] = []
    for number, block in enumerate(_blocks(text), start=1):
        if len(block) < 3 or not block[0].strip().isdigit():
            raise _unreadable(f"cue {number} is not index, timing and text")
        start, end = _timing(number, block[1])
        line = " ".join(block[2:])
        prefix = _PREFIX.match(line)
        if prefix is None:
            raise _unreadable(f"cue {number} has no speaker prefix")
        role = _role(number, prefix.group(1) or prefix.group(2))
        cues.append(Cue(role, start, end, _words(number, line[prefix.end() :])))
    if not cues:
        raise _unreadable("file has no cues")
    return cues


def _voice_cues(number: int, payload: str, start: float, end: float) -> list[Cue]:
    spans = list(_VOICE.finditer(payload))
    if not spans:
        raise _unreadable(f"cue {number} has no voice tag")
    cues = []
    for index, span in enumerate(spans):
        stop = spans[index + 1].start() if index + 1 < len(spans) else len(payload)
        role = _role(number, span.group(1))
        cues.append(Cue(role, start, end, _words(number, payload[span.end() : stop])))
    return cues


def _blocks(text: str) -> list[list[str]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    blocks: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _timing(number: int, line: str) -> tuple[float, float]:
    match = _TIMING.match(line)
    if match is None:
        raise _unreadable(f"cue {number} timing is malformed")
    parts = match.groups()
    start, end = _seconds(parts[:4]), _seconds(parts[4:])
    if end < start:
        raise _unreadable(f"cue {number} ends before it starts")
    return start, end


def _seconds(parts: tuple[str | None, ...]) -> float:
    hours, minutes, seconds, millis = (int(p) if p else 0 for p in parts)
    return hours * 3600 + minutes * 60 + seconds + millis / 1000


def _role(number: int, name: str) -> SpeakerRole.ValueType:
    role = SPEAKER_NAMES.get(name.strip().lower())
    if role is None:
        raise _unreadable(f"cue {number} speaker is not clinician or client")
    return role


def _words(number: int, markup: str) -> str:
    text = " ".join(html.unescape(_TAG.sub("", markup)).split())
    if not text:
        raise _unreadable(f"cue {number} has no text")
    return text


def _unreadable(reason: str) -> InvalidEvent:
    return InvalidEvent("unreadable_transcript", reason)
