"""Fetching partner transcript files from S3.

A file that is missing or refused to us is a permanent problem of the event
(``InvalidEvent``, dead-lettered for replay once fixed); an unreachable or failing
store is transient (``TranscriptStoreUnavailable``, the event is redelivered).
"""

from __future__ import annotations

import asyncio
from contextlib import closing
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from notewell.platform.events import InvalidEvent

# Error codes meaning the object will not appear by asking again.
PERMANENT_ERROR_CODES = frozenset(
    {"NoSuchKey", "NoSuchBucket", "AccessDenied", "NotFound", "404", "403"}
)


class TranscriptStoreUnavailable(Exception):
    """S3 could not be reached or failed; the message holds the error code only."""


class TranscriptFiles:
    """Reads partner transcript files, refusing any larger than ``max_bytes``."""

    def __init__(self, s3: Any, max_bytes: int) -> None:
        self._s3 = s3
        self._max_bytes = max_bytes

    async def read(self, bucket: str, key: str) -> bytes:
        # boto3 blocks; a worker thread keeps the event loop (and the relay) running.
        return await asyncio.to_thread(self._read, bucket, key)

    def _read(self, bucket: str, key: str) -> bytes:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
            with closing(response["Body"]) as stream:
                if response.get("ContentLength", 0) > self._max_bytes:
                    raise _too_large()
                body: bytes = stream.read(self._max_bytes + 1)
        except ClientError as exc:
            raise classify(exc) from None
        except BotoCoreError as exc:
            raise TranscriptStoreUnavailable(type(exc).__name__) from None
        if len(body) > self._max_bytes:
            raise _too_large()
        return body


def classify(error: ClientError) -> Exception:
    """The exception to raise for an S3 error response: permanent or transient."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in PERMANENT_ERROR_CODES:
        return InvalidEvent(
            "unreadable_transcript", "transcript_uri object is missing or access denied"
        )
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    return TranscriptStoreUnavailable(f"S3 error {code or 'unknown'} status {status}")


def _too_large() -> InvalidEvent:
    return InvalidEvent("unreadable_transcript", "transcript_uri object is too large")
