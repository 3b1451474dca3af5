"""Note content is stored only sealed, and never reaches the logs."""

from __future__ import annotations

import logging

import bson
import pytest
from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import Note
from notewell.notes.v1.notes_store_pb2 import (
    ListNotesRequest,
    SaveNoteRequest,
    UpdateNoteRequest,
)
from notewell.platform.logs import JsonFormatter

pytestmark = pytest.mark.asyncio

EDITED_TEXT = "Recalled the saffron ferry crossing with her brother"
CLEAR_FIELDS = {
    "_id",
    "session_id",
    "clinician_id",
    "client_id",
    "status",
    "format",
    "origin",
    "version",
    "created_at",
    "updated_at",
    "date_of_service",
    "signed_at",
    "sealed_note",
    "outbox_seq",
    "outbox_pending",
    # Emptied by the relay once note.saved is published; it only ever holds sealed
    # events.
    "outbox",
}


async def run_the_whole_flow(harness) -> list[Note]:
    """A draft taken in, edited, and another taken in and signed."""
    me = harness.as_clinician("clin-1")
    notes = []
    for _ in range(2):
        event, sent = harness.draft("clin-1", "client-7")
        await harness.publish_draft(event, key=event.session_id)
        notes.append(await harness.wait_for_note("clin-1", sent.note_id))
    edited = await harness.notes.UpdateNote(
        UpdateNoteRequest(
            note_id=notes[0].note_id,
            base_version=1,
            title=harness.SECRET_TITLE,
            sections=[harness.section("subjective", EDITED_TEXT)],
        ),
        metadata=me,
    )
    signed = await harness.notes.SaveNote(
        SaveNoteRequest(note_id=notes[1].note_id, base_version=1), metadata=me
    )
    await harness.notes.ListNotes(ListNotesRequest(client_id="client-7"), metadata=me)
    await harness.wait_until_relayed(signed.note_id)
    return [edited, signed]


async def test_the_database_holds_no_note_text_in_clear(harness) -> None:
    edited, signed = await run_the_whole_flow(harness)

    docs = [doc async for doc in harness.collection.find({})]

    assert sorted(doc["_id"] for doc in docs) == sorted([edited.note_id, signed.note_id])
    for doc in docs:
        assert set(doc) <= CLEAR_FIELDS, set(doc) - CLEAR_FIELDS
        raw = bson.encode(doc)
        for phrase in (harness.SECRET_TITLE, harness.SECRET_TEXT, EDITED_TEXT, "90834"):
            assert phrase.encode() not in raw
        # The content is there, sealed for this note only.
        box = SealedBox.FromString(doc["sealed_note"])
        opened = harness.sealer.open(box, Note, context=doc["_id"])
        assert opened == (edited if doc["_id"] == edited.note_id else signed)


async def test_no_note_text_in_the_logs(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await run_the_whole_flow(harness)

    events = {record.getMessage() for record in caplog.records}
    assert {"draft_stored", "note_updated", "note_signed"} <= events
    formatter = JsonFormatter()
    logged = caplog.text + "\n".join(formatter.format(r) for r in caplog.records)
    for phrase in (harness.SECRET_TITLE, harness.SECRET_TEXT, EDITED_TEXT, "lighthouse"):
        assert phrase not in logged
