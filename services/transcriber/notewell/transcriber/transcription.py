"""Handling one session.ended record, from the partner's event to transcript.ready."""

from __future__ import annotations

import uuid

from notewell.events.v1.events_pb2 import SessionEnded, TranscriptReady
from notewell.platform import events
from notewell.platform.crypto import Sealer
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger
from notewell.transcriber import partner_transcript, session_ended
from notewell.transcriber.session_facts import session_facts
from notewell.transcriber.sessions import Sessions
from notewell.transcriber.transcript_files import TranscriptFiles
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)


class Transcriber:
    """Turns consented sessions into sealed transcripts announced on transcript.ready.

    Invalid events raise ``events.InvalidEvent``; the consumer dead-letters them. Any
    other exception means "try again later" and the record is redelivered.
    """

    def __init__(
        self, sessions: Sessions, files: TranscriptFiles, sealer: Sealer, ready_topic: str
    ) -> None:
        self._sessions = sessions
        self._files = files
        self._sealer = sealer
        self._ready_topic = ready_topic

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

    async def _handle(self, event: SessionEnded) -> None:
        ids = {"session_id": event.session_id}
        if not event.transcription_consent:
            if await self._sessions.record_declined(event):
                log.info("session_consent_declined", extra=ids)
            else:
                log.info("session_already_recorded", extra=ids)
            return

        bucket, key = session_ended.transcript_location(event)
        # A redelivery is caught by the insert too; asking first spares S3 and KMS.
        if await self._sessions.known(event.session_id):
            log.info("session_already_recorded", extra=ids)
            return
        body = await self._files.read(bucket, key)
        transcript_id = str(uuid.uuid4())
        transcript = partner_transcript.parse(body, event.session_id, transcript_id)
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
        stored = await self._sessions.record_transcribed(
            event, facts, sealed, self._ready_topic, ready
        )
        if not stored:
            log.info("session_already_recorded", extra=ids)
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
