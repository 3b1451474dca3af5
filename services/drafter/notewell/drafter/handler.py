"""Handling transcript.ready: one draft per session, stored together with its
draft.created event."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from opentelemetry import trace

from notewell.drafter.drafting import Drafter
from notewell.drafter.drafts import Drafts, SessionState
from notewell.drafter.inputs import InputGatherer
from notewell.drafter.note import draft_note
from notewell.drafter.transcript import open_transcript, require_fields
from notewell.events.v1.events_pb2 import DraftCreated, TranscriptReady
from notewell.platform import events
from notewell.platform.crypto import Sealer
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)


class TranscriptReadyHandler:
    def __init__(
        self,
        drafts: Drafts,
        drafter: Drafter,
        inputs: InputGatherer,
        sealer: Sealer,
        draft_created_topic: str,
    ) -> None:
        self._drafts = drafts
        self._drafter = drafter
        self._inputs = inputs
        self._sealer = sealer
        self._topic = draft_created_topic

    async def handle(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, TranscriptReady)
        require_fields(event)
        session_id = event.session_id
        # A redelivery after the draft was stored must not call the model again, nor
        # may a transcript that arrives after its client withdrew consent.
        state = await self._drafts.state(session_id)
        if state is SessionState.WITHDRAWN:
            log.info(
                "drafting_skipped_consent_withdrawn", extra={"session_id": session_id}
            )
            return
        if state is SessionState.DRAFTED:
            log.info("draft_already_exists", extra={"session_id": session_id})
            return

        # Exception messages stay off the span: a library's may quote what it handled.
        with tracer.start_as_current_span(
            "draft_note",
            attributes={"session_id": session_id},
            record_exception=False,
        ):
            transcript = open_transcript(event, self._sealer)
            log.info(
                "drafting_started",
                extra={
                    "session_id": session_id,
                    "utterances": len(transcript.utterances),
                },
            )
            inputs = await self._inputs.gather(
                session_id, event.clinician_id, event.client_id, event.session
            )
            draft = await self._drafter.draft(
                session_id,
                transcript,
                event.session,
                inputs.note_format,
                inputs.voice,
                inputs.context,
            )

            now = datetime.now(UTC)
            created_at = Timestamp()
            created_at.FromDatetime(now)
            draft_id = str(uuid.uuid4())
            note = draft_note(event, draft, draft_id, created_at)
            created = DraftCreated(
                event_id=events.new_event_id(),
                session_id=session_id,
                clinician_id=event.clinician_id,
                client_id=event.client_id,
                draft_id=draft_id,
                note=self._sealer.seal(note, context=session_id),
                occurred_at=created_at,
            )
            stored = await self._drafts.add(
                created, self._topic, now, draft.extractive_fallback
            )

        if stored:
            log.info(
                "draft_stored",
                extra={
                    "session_id": session_id,
                    "draft_id": draft_id,
                    "extractive_fallback": draft.extractive_fallback,
                },
            )
        elif await self._drafts.state(session_id) is SessionState.WITHDRAWN:
            # Consent was withdrawn while the draft was being written.
            log.info(
                "draft_discarded_consent_withdrawn",
                extra={"session_id": session_id, "draft_id": draft_id},
            )
        else:
            log.info("draft_already_exists", extra={"session_id": session_id})
