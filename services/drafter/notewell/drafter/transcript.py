"""The session transcript a transcript.ready event carries, and how prompts show it."""

from __future__ import annotations

from google.protobuf.message import DecodeError

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.events.v1.events_pb2 import TranscriptReady
from notewell.platform.crypto import DecryptionError, Sealer
from notewell.platform.events import InvalidEvent

CHARS_PER_TOKEN = 4

_ROLE_LABELS = {
    SpeakerRole.SPEAKER_ROLE_CLINICIAN: "THERAPIST",
    SpeakerRole.SPEAKER_ROLE_CLIENT: "CLIENT",
    SpeakerRole.SPEAKER_ROLE_OTHER: "OTHER",
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


def utterance_label(utterance: Utterance) -> str:
    """How a prompt introduces a turn: ``[u12] CLIENT:``."""
    return f"[{utterance.id}] {_ROLE_LABELS.get(utterance.role, 'SPEAKER')}:"
