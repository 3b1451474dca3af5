from __future__ import annotations

import pytest

from notewell.events.v1.events_pb2 import SessionEnded
from notewell.platform import events


def test_binary_and_json_encodings_decode_to_the_same_event() -> None:
    event = SessionEnded(event_id="e1", session_id="s1", transcription_consent=True)
    body, headers = events.encode(event)
    assert headers == {
        "content-type": events.PROTOBUF,
        "event-type": "notewell.events.v1.SessionEnded",
        "event-id": "e1",
    }
    assert events.decode(body, headers, SessionEnded) == event
    json_body, json_headers = events.encode_json(event)
    assert json_headers["content-type"] == events.JSON
    assert events.decode(json_body, json_headers, SessionEnded) == event


@pytest.mark.parametrize(
    ("body", "headers", "code"),
    [
        (
            b'{"transcriptionConsent": "Maria Lopez"}',
            {"content-type": events.JSON},
            "bad_json",
        ),
        (b'{"sessionId": 17}', {"content-type": events.JSON}, "bad_json"),
        (b"\xff\xfe", {"content-type": events.JSON}, "bad_encoding"),
        (b"\x0a\xff\xff\xff", {}, "bad_protobuf"),
        (b"{}", {"content-type": "text/plain"}, "bad_content_type"),
    ],
)
def test_malformed_bodies_give_reasons_without_values(
    body: bytes, headers: dict[str, str], code: str
) -> None:
    with pytest.raises(events.InvalidEvent) as err:
        events.decode(body, headers, SessionEnded)
    assert err.value.reason_code == code
    assert "Maria" not in str(err.value) and "17" not in str(err.value)
