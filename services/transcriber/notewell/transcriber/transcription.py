"""Handling session.ended and consent.withdrawn records for the transcriber."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

from notewell.common.v1.common_pb2 import Transcript
from notewell.events.v1.events_pb2 import ConsentWithdrawn, SessionEnded, TranscriptReady
from notewell.platform import events
from notewell.platform.crypto import Sealer
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger
from notewell.transcriber import partner_transcript, recording_manifest, session_ended
from notewell.transcriber.progress import Progress
from notewell.transcriber.recordings import Recordings
from notewell.transcriber.session_facts import session_facts
from notewell.transcriber.sessions import CONSENT_WITHDRAWN, Sessions
from notewell.transcriber.transcript_files import TranscriptFiles

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)

# Room in a Kafka record beside the event itself: key, headers and batch framing.
RECORD_OVERHEAD_BYTES = 16 * 1024
# A session's document holds the sealed transcript twice (as stored and inside its
# queued transcript.ready) and must stay under MongoDB's 16 MiB document limit.
MONGODB_DOCUMENT_BYTES = 16 * 1024 * 1024
DOCUMENT_OVERHEAD_BYTES = 64 * 1024


def max_event_bytes(max_message_bytes: int) -> int:
    """The largest encoded transcript.ready that both fits a Kafka record of
    KAFKA_MAX_MESSAGE_BYTES and can be stored with its session."""
    return min(
        max_message_bytes - RECORD_OVERHEAD_BYTES,
        (MONGODB_DOCUMENT_BYTES - DOCUMENT_OVERHEAD_BYTES) // 2,
    )


class Transcriber:
    """Turns consented sessions into sealed transcripts announced on transcript.ready,
    and forgets them when consent is withdrawn.

    Invalid events raise ``events.InvalidEvent``; the consumer dead-letters them. Any
    other exception means "try again later" and the record is redelivered.
    """

    def __init__(
        self,
        sessions: Sessions,
        files: TranscriptFiles,
        sealer: Sealer,
        ready_topic: str,
        recordings: Recordings | None = None,
        progress: Progress | None = None,
        retention: timedelta = timedelta(0),
        max_event_bytes: int | None = None,
    ) -> None:
        self._sessions = sessions
        self._files = files
        self._sealer = sealer
        self._ready_topic = ready_topic
        self._recordings = recordings
        self._progress = progress
        self._retention = retention
        self._max_event_bytes = max_event_bytes

    async def handle(self, record: Received) -> None:
        # Exceptions are recorded by type only: their messages may quote the data.
        with tracer.start_as_current_span(
            "transcriber.session_ended",
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                event = events.decode(record.value, record.headers, SessionEnded)
                session_ended.check(event)
                span.set_attribute("session_id", event.session_id)
                await self._handle(event)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise

    async def handle_withdrawn(self, record: Received) -> None:
        with tracer.start_as_current_span(
            "transcriber.consent_withdrawn",
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            try:
                event = events.decode(record.value, record.headers, ConsentWithdrawn)
                if not event.session_id.strip():
                    raise events.InvalidEvent("missing_field", "empty: session_id")
                span.set_attribute("session_id", event.session_id)
                await self._withdraw(event)
            except Exception as exc:
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                raise

    async def _handle(self, event: SessionEnded) -> None:
        ids = {"session_id": event.session_id}
        if not event.transcription_consent:
            await self._delete_uploaded_recording(event)
            if await self._sessions.record_declined(event):
                log.info("session_consent_declined", extra=ids)
            else:
                log.info("session_already_recorded", extra=ids)
            return

        kind, bucket, key = session_ended.source_location(event)
        # A redelivery is caught by the insert too; asking first spares S3 and KMS.
        if await self._settle_known(event):
            return

        transcript_id = str(uuid.uuid4())
        objects: list[tuple[str, str]] = []
        if kind == "transcript_uri":
            body = await self._files.read(bucket, key)
            transcript = partner_transcript.parse(body, event.session_id, transcript_id)
        else:
            transcript, objects = await self._transcribe_recording(
                event, bucket, key, transcript_id
            )
        facts = session_facts(event)
        sealed = self._sealer.seal(transcript, context=event.session_id)

        ready = TranscriptReady(
            event_id=events.new_event_id(),
            session_id=event.session_id,
            clinician_id=event.clinician_id,
            client_id=event.client_id,
            transcript_id=transcript_id,
            session=facts,
            transcript=sealed,
            occurred_at=events.now_timestamp(),
        )
        await self._check_size(event.session_id, ready)
        keep_until = None
        if objects and self._retention > timedelta(0):
            keep_until = datetime.now(UTC) + self._retention
        stored = await self._sessions.record_transcribed(
            event, facts, sealed, self._ready_topic, ready, objects, keep_until
        )
        if not stored:
            # Withdrawn (or recorded by another replica) while we transcribed.
            await self._settle_known(event)
            return
        log.info(
            "session_transcribed",
            extra={
                **ids,
                "transcript_id": transcript_id,
                "utterances": len(transcript.utterances),
                "duration_minutes": facts.duration_minutes,
            },
        )
        await self._after_stored(event.session_id, objects, keep_until is None)

    async def _check_size(self, session_id: str, ready: TranscriptReady) -> None:
        """Refuses a transcript.ready too large for a Kafka record: stored, its outbox
        would fail to publish on every relay round."""
        size = ready.ByteSize()
        if self._max_event_bytes is None or size <= self._max_event_bytes:
            return
        if self._progress is not None:
            await self._progress.forget(session_id)
        log.warning(
            "transcript_too_large",
            extra={
                "session_id": session_id,
                "event_bytes": size,
                "max_event_bytes": self._max_event_bytes,
            },
        )
        raise events.InvalidEvent(
            "transcript_too_large",
            f"the sealed transcript.ready is {size} bytes, over the "
            f"{self._max_event_bytes} that fit a Kafka record of "
            "KAFKA_MAX_MESSAGE_BYTES and a stored session",
        )

    async def _transcribe_recording(
        self, event: SessionEnded, bucket: str, key: str, transcript_id: str
    ) -> tuple[Transcript, list[tuple[str, str]]]:
        if self._recordings is None:
            raise events.InvalidEvent("unsupported_source", "recordings are not enabled")
        tracks = await self._recordings.tracks(bucket, key)
        transcript = await self._recordings.transcribe(event, tracks, transcript_id)
        objects = [(track.bucket, track.key) for track in tracks]
        if recording_manifest.is_manifest(key):
            objects.append((bucket, key))
        return transcript, objects

    async def _settle_known(self, event: SessionEnded) -> bool:
        """Finishes what a crash or a withdrawal left of a known session; False when
        the session is unknown."""
        document = await self._sessions.find(event.session_id)
        if document is None:
            return False
        ids = {"session_id": event.session_id}
        if document.get("status") == CONSENT_WITHDRAWN:
            await self._delete_uploaded_recording(event)
            if self._progress is not None:
                await self._progress.forget(event.session_id)
            log.info("session_consent_withdrawn_earlier", extra=ids)
            return True
        objects = [tuple(o) for o in document.get("recording_objects") or []]
        due = "recording_delete_after" not in document
        await self._after_stored(event.session_id, objects, due)  # type: ignore[arg-type]
        log.info("session_already_recorded", extra=ids)
        return True

    async def _after_stored(
        self, session_id: str, objects: list[tuple[str, str]], delete_now: bool
    ) -> None:
        if self._progress is not None:
            await self._progress.forget(session_id)
        if objects and delete_now and self._recordings is not None:
            await self._recordings.delete(objects)
            await self._sessions.recording_deleted(session_id)
            log.info("recording_deleted", extra={"session_id": session_id})

    async def _delete_uploaded_recording(self, event: SessionEnded) -> None:
        """Deletes the audio a partner uploaded for a session we may not transcribe.
        Only a manifest (ids and URIs) is read, to find its tracks; no audio is."""
        if event.WhichOneof("source") != "recording_uri" or self._recordings is None:
            return
        try:
            _, bucket, key = session_ended.source_location(event)
        except events.InvalidEvent:
            return
        try:
            tracks = await self._recordings.tracks(bucket, key)
        except events.InvalidEvent:
            tracks = []
        objects = {(track.bucket, track.key) for track in tracks} | {(bucket, key)}
        await self._recordings.delete(sorted(objects))
        log.info("recording_deleted", extra={"session_id": event.session_id})

    async def _withdraw(self, event: ConsentWithdrawn) -> None:
        before = await self._sessions.withdraw(
            event.session_id, event.clinician_id, event.client_id
        )
        if self._progress is not None:
            await self._progress.forget(event.session_id)
        objects = [tuple(o) for o in (before or {}).get("recording_objects") or []]
        if objects and self._recordings is not None:
            await self._recordings.delete(objects)  # type: ignore[arg-type]
            await self._sessions.recording_deleted(event.session_id)
        log.info(
            "session_consent_withdrawn",
            extra={"session_id": event.session_id, "was_known": before is not None},
        )

    async def sweep_recordings(self) -> int:
        """Deletes kept audio past its retention period; returns how many sessions."""
        if self._recordings is None:
            return 0
        due = await self._sessions.recordings_due(datetime.now(UTC))
        for document in due:
            objects = [tuple(o) for o in document.get("recording_objects") or []]
            await self._recordings.delete(objects)  # type: ignore[arg-type]
            await self._sessions.recording_deleted(document["_id"])
            log.info("recording_deleted", extra={"session_id": document["_id"]})
        return len(due)
