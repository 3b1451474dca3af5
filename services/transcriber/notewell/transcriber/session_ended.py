"""What a session.ended event must hold before anything is done with it.

Every reason names fields only, never a value from the message: the dead-letter topic's
readers and the logs must not learn anything about the session from it.
"""

from __future__ import annotations

from notewell.common.v1.common_pb2 import Modality
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform.clients import BadS3Uri, parse_s3_uri
from notewell.platform.events import InvalidEvent

REQUIRED_IDS = ("session_id", "clinician_id", "client_id", "event_id")


def check(event: SessionEnded) -> None:
    """Raises InvalidEvent unless the ids, actual times and modality are usable."""
    missing = [name for name in REQUIRED_IDS if not getattr(event, name).strip()]
    if missing:
        raise InvalidEvent("missing_field", "empty: " + ", ".join(missing))

    if not (event.HasField("actual_start") and event.HasField("actual_end")):
        raise InvalidEvent("bad_session_times", "actual_start and actual_end are unset")
    start, end = event.actual_start, event.actual_end
    if (end.seconds, end.nanos) <= (start.seconds, start.nanos):
        raise InvalidEvent("bad_session_times", "actual_end is not after actual_start")

    if event.modality == Modality.MODALITY_UNSPECIFIED:
        raise InvalidEvent("missing_field", "modality is unspecified")
    if event.modality not in Modality.values():
        raise InvalidEvent("missing_field", "modality is not a known value")


def source_location(event: SessionEnded) -> tuple[str, str, str]:
    """(kind, bucket, key) of a consented session's source, where kind is
    "transcript_uri" or "recording_uri".

    Only consulted with consent: without it the source is never read, so a session
    whose partner sent no source is still recorded as declined.
    """
    kind = event.WhichOneof("source")
    if kind is None:
        raise InvalidEvent("missing_source", "transcript_uri and recording_uri are unset")
    try:
        bucket, key = parse_s3_uri(getattr(event, kind))
    except BadS3Uri:
        raise InvalidEvent("bad_uri", f"{kind} is not an s3://bucket/key URI") from None
    return kind, bucket, key
