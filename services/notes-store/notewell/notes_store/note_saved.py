"""The note.saved announcement of a signed note or a new addendum, queued in the
note's outbox."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.note_pb2 import Note, NoteType
from notewell.platform import events
from notewell.platform.crypto import Sealer
from notewell.platform.outbox import outbox_fields


class NoteSavedAnnouncer:
    """Builds the outbox fields that publish NoteSaved on ``topic``, keyed by session
    id, with the note sealed for the session like every event's content.

    Psychotherapy notes are never announced: note.saved feeds exports and the context
    of later drafts, and those notes stay out of both unless their author asks.
    """

    def __init__(self, sealer: Sealer, topic: str) -> None:
        self._sealer = sealer
        self._topic = topic

    async def outbox(self, note: Note, now: datetime) -> dict[str, Any] | None:
        if note.note_type == NoteType.NOTE_TYPE_PSYCHOTHERAPY:
            return None
        # Sealing may reach KMS over the network, so it runs off the event loop.
        box = await asyncio.to_thread(self._sealer.seal, note, note.session_id)
        event = NoteSaved(
            event_id=events.new_event_id(),
            session_id=note.session_id,
            clinician_id=note.clinician_id,
            client_id=note.client_id,
            note_id=note.note_id,
            version=note.version,
            note=box,
        )
        event.occurred_at.FromDatetime(now)
        # A note written from scratch has no session; its own id keys it instead.
        return outbox_fields(self._topic, note.session_id or note.note_id, event)
