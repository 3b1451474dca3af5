"""Exported PDFs: one S3 object per note version, recorded in the ``exports`` collection.

A record's ``_id`` is ``<note_id>:v<version>``. A version already exported is not
rendered again, so a redelivered note.saved stores nothing twice. It is rendered again
when its object is gone, or when the note differs from the one exported under that
version: a draft's header is filled from the current profiles each time it is read, so
a profile change alters the draft without a new version.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from opentelemetry import trace
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.exporter.rendering import NoteRenderer
from notewell.notes.v1.note_pb2 import Note, NoteStatus, NoteType
from notewell.platform.logs import get_logger

COLLECTION = "exports"

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)


class UnsafeId(ValueError):
    """An id that cannot be part of an object key (empty, or a path of its own)."""


class PsychotherapyNote(ValueError):
    """A psychotherapy note, exported only when its author asks for it explicitly."""


@dataclass(frozen=True)
class Export:
    object_key: str
    version: int
    # False when an earlier export of the same version was reused.
    rendered: bool


@dataclass(frozen=True)
class Link:
    url: str
    expires_at: datetime


def export_id(note_id: str, version: int) -> str:
    return f"{note_id}:v{version}"


def object_key(note: Note) -> str:
    """``notes/<clinician_id>/<note_id>/v<version>.pdf``."""
    clinician_id = _key_part(note.clinician_id, "clinician_id")
    note_id = _key_part(note.note_id, "note_id")
    return f"notes/{clinician_id}/{note_id}/v{note.version}.pdf"


def _key_part(value: str, field: str) -> str:
    unsafe = (
        not value
        or value in (".", "..")
        or len(value) > 200
        or any(c in "/\\" or not c.isprintable() for c in value)
    )
    if unsafe:
        raise UnsafeId(f"{field} cannot be used in an object key")
    return value


class Exports:
    """Renders, stores and finds the PDFs of notes."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        s3: Any,
        bucket: str,
        renderer: NoteRenderer,
        kms_key_id: str | None = None,
        presigner: Any = None,
    ) -> None:
        """``presigner`` is an S3 client for the endpoint browsers reach, used only to
        sign links; without one, links are signed for ``s3``'s endpoint."""
        self._collection = collection
        self._s3 = s3
        self._presigner = presigner if presigner is not None else s3
        self._bucket = bucket
        self._renderer = renderer
        self._kms_key_id = kms_key_id

    @property
    def bucket(self) -> str:
        return self._bucket

    async def ensure_bucket(self) -> None:
        """Creates the bucket when it does not exist yet."""
        await asyncio.to_thread(self._ensure_bucket)

    def _ensure_bucket(self) -> None:
        try:
            self._s3.head_bucket(Bucket=self._bucket)
            return
        except ClientError as exc:
            if _status(exc) != 404:
                raise
        try:
            self._s3.create_bucket(Bucket=self._bucket)
        except ClientError as exc:
            # Another replica created it in between.
            if exc.response.get("Error", {}).get("Code") not in (
                "BucketAlreadyOwnedByYou",
                "BucketAlreadyExists",
            ):
                raise
        log.info("export_bucket_created", extra={"bucket": self._bucket})

    async def export(self, note: Note, *, include_psychotherapy: bool = False) -> Export:
        """The stored PDF of this version of ``note``, rendered and uploaded if needed.

        A psychotherapy note raises ``PsychotherapyNote`` unless
        ``include_psychotherapy``: it stays out of the record's exports by default.
        """
        psychotherapy = note.note_type == NoteType.NOTE_TYPE_PSYCHOTHERAPY
        if psychotherapy and not include_psychotherapy:
            raise PsychotherapyNote("psychotherapy note exported only on request")
        key = object_key(note)
        record_id = export_id(note.note_id, note.version)
        status = _status_name(note)
        fingerprint = _fingerprint(note)
        attributes = {"note_id": note.note_id, "note_version": note.version}

        with tracer.start_as_current_span("export_note", attributes=attributes):
            earlier = await self._collection.find_one({"_id": record_id})
            if (
                earlier is not None
                and earlier.get("object_key") == key
                # A signed note never changes, so its export stands for good; a draft's
                # stands only for the very same draft (signed since, or its header
                # refilled from changed profiles, it differs).
                and (
                    earlier.get("status") == "signed"
                    or earlier.get("note") == fingerprint
                )
                and await asyncio.to_thread(self._object_exists, key)
            ):
                return Export(object_key=key, version=note.version, rendered=False)

            pdf = await asyncio.to_thread(self._renderer.render, note)
            await asyncio.to_thread(self._upload, key, pdf)
            await self._record(record_id, key, note, status, fingerprint, pdf)

        log.info(
            "note_exported",
            extra={
                "note_id": note.note_id,
                "version": note.version,
                "status": status,
                "size_bytes": len(pdf),
            },
        )
        return Export(object_key=key, version=note.version, rendered=True)

    def presign(self, key: str, ttl_seconds: int) -> Link:
        """A GET link to ``key`` valid for ``ttl_seconds``."""
        # Signing time is taken before the URL is signed, so the expiry printed is
        # never later than the one S3 enforces.
        signed_at = datetime.now(UTC).replace(microsecond=0)
        url = self._presigner.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": key},
            ExpiresIn=ttl_seconds,
        )
        return Link(url=url, expires_at=signed_at + timedelta(seconds=ttl_seconds))

    def _object_exists(self, key: str) -> bool:
        try:
            self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise
        return True

    def _upload(self, key: str, pdf: bytes) -> None:
        encryption: dict[str, str] = (
            {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
            if self._kms_key_id
            else {"ServerSideEncryption": "AES256"}
        )
        self._s3.put_object(
            Bucket=self._bucket,
            Key=key,
            Body=pdf,
            ContentType="application/pdf",
            **encryption,
        )

    async def _record(
        self,
        record_id: str,
        key: str,
        note: Note,
        status: str,
        fingerprint: str,
        pdf: bytes,
    ) -> None:
        fields = {
            "note_id": note.note_id,
            "version": note.version,
            "session_id": note.session_id,
            "clinician_id": note.clinician_id,
            "status": status,
            "bucket": self._bucket,
            "object_key": key,
            "note": fingerprint,
            "sha256": hashlib.sha256(pdf).hexdigest(),
            "size_bytes": len(pdf),
            "exported_at": datetime.now(UTC),
        }
        # A concurrent export of the same version may win the upsert; its object sits
        # under the same key.
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.update_one(
                {"_id": record_id}, {"$set": fields}, upsert=True
            )


def _fingerprint(note: Note) -> str:
    """SHA-256 of the note's deterministic encoding: equal only for the same note."""
    return hashlib.sha256(note.SerializeToString(deterministic=True)).hexdigest()


def _status_name(note: Note) -> str:
    return "signed" if note.status == NoteStatus.NOTE_STATUS_SIGNED else "draft"


def _status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
