"""Which audio tracks a ``recording_uri`` names.

The URI is either one audio object (a mixed track, as recorded in the room) or, when its
key ends in ``.json``, a manifest listing one track per participant::

    {"tracks": [{"uri": "s3://bucket/a.webm", "role": "clinician"},
                {"uri": "s3://bucket/b.webm", "role": "client"}]}

A manifest with one track and no role is a mixed track. Reasons name positions and
fields, never a value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.platform.clients import BadS3Uri, parse_s3_uri
from notewell.platform.events import InvalidEvent

MAX_MANIFEST_BYTES = 64 * 1024
MAX_TRACKS = 8
ROLES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
}


@dataclass(frozen=True)
class Track:
    bucket: str
    key: str
    # None for a mixed track, whose speakers are separated from the audio.
    role: SpeakerRole.ValueType | None


def is_manifest(key: str) -> bool:
    return key.lower().endswith(".json")


def parse(body: bytes) -> list[Track]:
    """The tracks of a manifest; raises InvalidEvent("bad_manifest", ...)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        raise _bad("manifest is not JSON") from None
    tracks = data.get("tracks") if isinstance(data, dict) else None
    if not isinstance(tracks, list) or not tracks or len(tracks) > MAX_TRACKS:
        raise _bad(f"manifest needs a tracks list of 1 to {MAX_TRACKS}")
    parsed = [_track(index, entry) for index, entry in enumerate(tracks)]

    mixed = [track for track in parsed if track.role is None]
    if mixed and len(parsed) > 1:
        raise _bad("a track without role must be the only track")
    return parsed


def _track(index: int, entry: Any) -> Track:
    if not isinstance(entry, dict):
        raise _bad(f"track {index} is not an object")
    uri = entry.get("uri")
    try:
        bucket, key = parse_s3_uri(uri if isinstance(uri, str) else "")
    except BadS3Uri:
        raise _bad(f"track {index} uri is not an s3://bucket/key URI") from None
    role = entry.get("role")
    if role is None:
        return Track(bucket, key, None)
    if not isinstance(role, str) or role not in ROLES:
        raise _bad(f"track {index} role is not clinician or client")
    return Track(bucket, key, ROLES[role])


def _bad(reason: str) -> InvalidEvent:
    return InvalidEvent("bad_manifest", reason)
