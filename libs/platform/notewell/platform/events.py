"""Topic names and the encoding of events on them.

Events are protobuf messages. Our services publish the binary encoding; partners may
publish the proto3 JSON mapping instead, announced by the "content-type" header. Keys
and headers hold ids only.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TypeVar

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.events.v1 import events_pb2

SESSION_ENDED = "session.ended"
TRANSCRIPT_READY = "transcript.ready"
DRAFT_CREATED = "draft.created"
NOTE_SAVED = "note.saved"
CONSENT_WITHDRAWN = "consent.withdrawn"
MEASUREMENT_RECORDED = "measurement.recorded"
WEARABLE_SUMMARY = "wearable.summary"

PROTOBUF = "application/x-protobuf"
JSON = "application/json"

TOPIC_TYPES: dict[str, type[Message]] = {
    SESSION_ENDED: events_pb2.SessionEnded,
    TRANSCRIPT_READY: events_pb2.TranscriptReady,
    DRAFT_CREATED: events_pb2.DraftCreated,
    NOTE_SAVED: events_pb2.NoteSaved,
    CONSENT_WITHDRAWN: events_pb2.ConsentWithdrawn,
    MEASUREMENT_RECORDED: events_pb2.MeasurementRecorded,
    WEARABLE_SUMMARY: events_pb2.WearableSummaryRecorded,
}

E = TypeVar("E", bound=Message)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


class InvalidEvent(Exception):
    """An event that can never be processed. The reason names fields and ids only."""

    def __init__(self, reason_code: str, reason: str) -> None:
        super().__init__(f"{reason_code}: {reason}")
        self.reason_code = reason_code
        self.reason = reason


def new_event_id() -> str:
    return str(uuid.uuid4())


def now_timestamp() -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.now(UTC))
    return ts


def encode(event: Message) -> tuple[bytes, dict[str, str]]:
    """Binary encoding and the headers that describe it."""
    headers = {
        "content-type": PROTOBUF,
        "event-type": event.DESCRIPTOR.full_name,
    }
    event_id = getattr(event, "event_id", "")
    if event_id:
        headers["event-id"] = event_id
    return event.SerializeToString(), headers


def encode_json(event: Message) -> tuple[bytes, dict[str, str]]:
    """The proto3 JSON mapping, as a partner may publish it."""
    _, headers = encode(event)
    headers["content-type"] = JSON
    return json_format.MessageToJson(event).encode(), headers


def decode(body: bytes, headers: Mapping[str, str], event_type: type[E]) -> E:
    """Parses an event; a malformed one raises InvalidEvent with a PHI-free reason."""
    content_type = headers.get("content-type", PROTOBUF)
    message = event_type()
    if content_type.startswith(JSON):
        try:
            json_format.Parse(body.decode("utf-8"), message, ignore_unknown_fields=True)
        except UnicodeDecodeError:
            raise InvalidEvent("bad_encoding", "body is not UTF-8 JSON") from None
        except json_format.ParseError as exc:
            raise InvalidEvent(
                "bad_json", _json_error_without_values(exc, message)
            ) from None
    elif content_type.startswith(PROTOBUF):
        try:
            message.ParseFromString(body)
        except DecodeError:
            raise InvalidEvent(
                "bad_protobuf", "body is not a valid protobuf message"
            ) from None
    else:
        raise InvalidEvent("bad_content_type", "unsupported content-type header")
    return message


def _json_error_without_values(exc: json_format.ParseError, message: Message) -> str:
    """Names the offending field when it is one of the schema's, and never a value."""
    text = str(exc)
    names = {f.json_name for f in message.DESCRIPTOR.fields} | {
        f.name for f in message.DESCRIPTOR.fields
    }
    # protobuf's messages look like: Failed to parse actualStart field: <detail>.
    if text.startswith("Failed to parse ") and " field" in text:
        field = text[len("Failed to parse ") :].split(" field", 1)[0]
        if field in names:
            return f"field {field!r} has the wrong type or format"
    return "body is not valid JSON for the event schema"


def headers_from_kafka(
    raw: Mapping[str, bytes | str] | list[tuple[str, bytes]] | None,
) -> dict[str, str]:
    if raw is None:
        return {}
    items = raw.items() if isinstance(raw, Mapping) else raw
    out: dict[str, str] = {}
    for key, value in items:
        out[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return out
