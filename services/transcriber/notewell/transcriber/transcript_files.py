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
    """Reads and deletes partner objects, refusing any larger than ``max_bytes``.

    ``what`` names the source in reasons ("transcript_uri", "recording track 1") and
    ``reason_code`` is the dead-letter code a permanent failure carries.
    """

    def __init__(self, s3: Any, max_bytes: int) -> None:
        self._s3 = s3
        self._max_bytes = max_bytes

    async def read(
        self,
        bucket: str,
        key: str,
        max_bytes: int | None = None,
        what: str = "transcript_uri",
        reason_code: str = "unreadable_transcript",
    ) -> bytes:
        # boto3 blocks; a worker thread keeps the event loop (and the relay) running.
        limit = self._max_bytes if max_bytes is None else max_bytes
        return await asyncio.to_thread(self._read, bucket, key, limit, what, reason_code)

    async def delete(self, bucket: str, key: str) -> None:
        """Deletes an object; one already gone, or in a missing bucket, is fine."""
        await asyncio.to_thread(self._delete, bucket, key)

    def _read(
        self, bucket: str, key: str, limit: int, what: str, reason_code: str
    ) -> bytes:
        try:
            response = self._s3.get_object(Bucket=bucket, Key=key)
            with closing(response["Body"]) as stream:
                if response.get("ContentLength", 0) > limit:
                    raise _too_large(what, reason_code)
                body: bytes = stream.read(limit + 1)
        except ClientError as exc:
            raise classify(exc, what, reason_code) from None
        except BotoCoreError as exc:
            raise TranscriptStoreUnavailable(type(exc).__name__) from None
        if len(body) > limit:
            raise _too_large(what, reason_code)
        return body

    def _delete(self, bucket: str, key: str) -> None:
        try:
            self._s3.delete_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code not in ("NoSuchKey", "NoSuchBucket", "404"):
                raise TranscriptStoreUnavailable(f"S3 delete error {code}") from None
        except BotoCoreError as exc:
            raise TranscriptStoreUnavailable(type(exc).__name__) from None


def classify(
    error: ClientError,
    what: str = "transcript_uri",
    reason_code: str = "unreadable_transcript",
) -> Exception:
    """The exception to raise for an S3 error response: permanent or transient."""
    code = str(error.response.get("Error", {}).get("Code", ""))
    if code in PERMANENT_ERROR_CODES:
        return InvalidEvent(reason_code, f"{what} object is missing or access denied")
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", "")
    return TranscriptStoreUnavailable(f"S3 error {code or 'unknown'} status {status}")


def _too_large(what: str, reason_code: str) -> InvalidEvent:
    return InvalidEvent(reason_code, f"{what} object is too large")
