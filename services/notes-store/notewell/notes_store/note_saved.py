"""The note.saved announcement of a signed note, queued in the note's outbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.note_pb2 import Note
from notewell.platform import events
from notewell.platform.crypto import Sealer
from notewell.platform.outbox import outbox_fields


def note_saved_outbox(
    sealer: Sealer, topic: str, note: Note, now: datetime
) -> dict[str, Any]:
    """Outbox fields that publish NoteSaved for ``note`` on ``topic``, keyed by session
    id, with the note sealed for the session like every event's content."""
    event = NoteSaved(
        event_id=events.new_event_id(),
        session_id=note.session_id,
        clinician_id=note.clinician_id,
        client_id=note.client_id,
        note_id=note.note_id,
        version=note.version,
        note=sealer.seal(note, context=note.session_id),
    )
    event.occurred_at.FromDatetime(now)
    return outbox_fields(topic, note.session_id, event)
