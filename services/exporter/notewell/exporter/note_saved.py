"""Handling note.saved: every signed note gets its PDF in the exports bucket, except
psychotherapy notes, which are exported only on their author's explicit request."""

from __future__ import annotations

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.exporter.exports import Exports, PsychotherapyNote, UnsafeId
from notewell.notes.v1.note_pb2 import Note
from notewell.platform import events
from notewell.platform.crypto import DecryptionError, Sealer
from notewell.platform.kafka import Received
from notewell.platform.logs import get_logger

log = get_logger(__name__)


class NoteSavedHandler:
    """Opens the sealed note of a note.saved event and exports it.

    Events that can never be exported raise ``InvalidEvent`` (dead-lettered); any other
    failure propagates so the event is redelivered.
    """

    def __init__(self, sealer: Sealer, exports: Exports) -> None:
        self._sealer = sealer
        self._exports = exports

    async def handle(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, NoteSaved)
        missing = [
            name
            for name, present in (
                ("session_id", bool(event.session_id)),
                ("note_id", bool(event.note_id)),
                ("note", event.HasField("note")),
            )
            if not present
        ]
        if missing:
            raise events.InvalidEvent("missing_field", f"missing {', '.join(missing)}")

        try:
            note = self._sealer.open(event.note, Note, context=event.session_id)
        except DecryptionError:
            raise events.InvalidEvent(
                "unopenable_note", f"sealed note of {event.note_id} cannot be opened"
            ) from None

        mismatched = [
            name
            for name, same in (
                ("note_id", note.note_id == event.note_id),
                ("version", note.version == event.version),
                ("clinician_id", note.clinician_id == event.clinician_id),
            )
            if not same
        ]
        if mismatched:
            raise events.InvalidEvent(
                "inconsistent_note",
                f"sealed note differs from the event in {', '.join(mismatched)}",
            )

        try:
            export = await self._exports.export(note)
        except PsychotherapyNote:
            # notes-store does not announce these; should one arrive, it is left out
            # of the exports bucket rather than dead-lettered with its sealed note.
            log.info(
                "psychotherapy_note_not_exported",
                extra={"note_id": event.note_id, "event_id": event.event_id},
            )
            return
        except UnsafeId as exc:
            raise events.InvalidEvent("bad_id", str(exc)) from None

        log.info(
            "note_saved_handled",
            extra={
                "session_id": event.session_id,
                "note_id": event.note_id,
                "version": event.version,
                "event_id": event.event_id,
                "rendered": export.rendered,
            },
        )
