"""Handling consent.withdrawn: the client withdrew consent to transcription after the
session, so the drafter forgets the session's draft and drafts nothing more for it.

The session's draft document is replaced by a tombstone (session id and time only; see
``drafts``). Its draft.created event goes with it when the outbox relay has not sent it
yet, and is then never published. When it has been sent, or is being sent at that
moment, the notes store discards the draft on its side: it takes in consent.withdrawn
too and discards drafts of a withdrawn session whenever they arrive. The tombstone
makes a transcript.ready that comes later (the topics are not ordered with each other)
or one being drafted right now end without a draft.

Only the session id is required: the drafter keys everything by it. A redelivered or
repeated event finds the tombstone and changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from opentelemetry import trace

from notewell.drafter.drafts import Drafts
from notewell.events.v1.events_pb2 import ConsentWithdrawn
from notewell.platform import events
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)


class ConsentWithdrawal:
    """The consent.withdrawn handler."""

    def __init__(self, drafts: Drafts) -> None:
        self._drafts = drafts

    async def handle(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, ConsentWithdrawn)
        session_id = event.session_id
        if not session_id.strip():
            raise events.InvalidEvent("missing_field", "empty required field: session_id")

        # Exception messages stay off the span, as in the transcript handler.
        with tracer.start_as_current_span(
            "consent_withdrawn",
            attributes={"session_id": session_id},
            record_exception=False,
        ):
            outcome = await self._drafts.withdraw(session_id, datetime.now(UTC))
        log.info(
            "consent_withdrawn",
            extra={
                "session_id": session_id,
                "event_id": event.event_id,
                "outcome": outcome.value,
            },
        )
