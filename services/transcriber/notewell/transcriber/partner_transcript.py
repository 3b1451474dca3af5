"""Reading a partner's transcript file into a ``Transcript``.

Three formats are accepted, told apart by their first bytes: WebVTT (``WEBVTT``), the
partner JSON (``{``)::

    {"turns": [{"speaker": "clinician" | "client", "start": 12.5, "end": 19.0,
                "text": "..."}]}

and otherwise SRT (see ``subtitles``). Any deviation makes the file unreadable. Reasons
give a turn's position and a field name, never anything the file says.
"""

from __future__ import annotations

import json
import math
from typing import Any

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.platform.events import InvalidEvent
from notewell.transcriber import subtitles

ROLES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
}


def parse(body: bytes, session_id: str, transcript_id: str) -> Transcript:
    """The transcript in ``body``, utterances numbered "u0", "u1", ... in file order."""
    transcript = Transcript(transcript_id=transcript_id, session_id=session_id)
    head = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"{"):
        for index, turn in enumerate(_turns(body)):
            transcript.utterances.append(_utterance(index, turn))
        return transcript

    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        raise _unreadable("file is not UTF-8 text") from None
    if text.startswith("WEBVTT"):
        cues = subtitles.parse_webvtt(text)
    else:
        cues = subtitles.parse_srt(text)
    for index, cue in enumerate(cues):
        transcript.utterances.append(
            Utterance(
                id=f"u{index}",
                role=cue.role,
                start_seconds=cue.start,
                end_seconds=cue.end,
                text=cue.text,
            )
        )
    return transcript


def _turns(body: bytes) -> list[Any]:
    try:
        data = json.loads(body, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        # ValueError covers bad UTF-8, bad JSON and NaN/Infinity alike.
        raise _unreadable("file is not JSON") from None
    turns = data.get("turns") if isinstance(data, dict) else None
    if not isinstance(turns, list) or not turns:
        raise _unreadable("file has no turns list")
    return turns


def _utterance(index: int, turn: Any) -> Utterance:
    if not isinstance(turn, dict):
        raise _unreadable(f"turn {index} is not an object")
    speaker = turn.get("speaker")
    if not isinstance(speaker, str) or speaker not in ROLES:
        raise _unreadable(f"turn {index} speaker is not clinician or client")
    text = turn.get("text")
    if not isinstance(text, str) or not text.strip():
        raise _unreadable(f"turn {index} has no text")
    start = _seconds(index, "start", turn.get("start"))
    end = _seconds(index, "end", turn.get("end"))
    if end < start:
        raise _unreadable(f"turn {index} ends before it starts")
    return Utterance(
        id=f"u{index}",
        role=ROLES[speaker],
        start_seconds=start,
        end_seconds=end,
        text=text,
    )


def _seconds(index: int, field: str, value: Any) -> float:
    # bool is an int in Python, but true/false is no time.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _unreadable(f"turn {index} {field} is not a number")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise _unreadable(f"turn {index} {field} is negative or not finite")
    return seconds


def _no_constants(name: str) -> Any:
    raise ValueError("NaN and Infinity are not JSON numbers")


def _unreadable(reason: str) -> InvalidEvent:
    return InvalidEvent("unreadable_transcript", reason)
