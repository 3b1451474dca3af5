"""Saving signs a draft into the record and announces it on note.saved exactly once."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.note_pb2 import Note, NoteStatus
from notewell.notes.v1.notes_store_pb2 import (
    GetNoteRequest,
    SaveNoteRequest,
    UpdateNoteRequest,
)

pytestmark = pytest.mark.asyncio


async def stored_draft(harness) -> Note:
    event, sent = harness.draft("clin-1", "client-7")
    await harness.publish_draft(event, key=event.session_id)
    return await harness.wait_for_note("clin-1", sent.note_id)


async def test_saving_signs_the_note_and_publishes_it_once(harness) -> None:
    draft = await stored_draft(harness)
    me = harness.as_clinician("clin-1")

    # Saves from the same version, as from a double click or two tabs: one signs.
    outcomes = await asyncio.gather(
        *[
            harness.notes.SaveNote(
                SaveNoteRequest(note_id=draft.note_id, base_version=1), metadata=me
            )
            for _ in range(4)
        ],
        return_exceptions=True,
    )
    saved = [o for o in outcomes if isinstance(o, Note)]
    assert len(saved) == 1, outcomes
    for refused in (o for o in outcomes if not isinstance(o, Note)):
        assert isinstance(refused, grpc.aio.AioRpcError), refused
        assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    note = saved[0]
    assert note.status == NoteStatus.NOTE_STATUS_SIGNED
    assert note.signature.signed_by == "clin-1"
    assert note.signature.signed_at == note.updated_at
    assert note.version == 2
    assert list(note.sections) == list(draft.sections)
    assert note == await harness.notes.GetNote(
        GetNoteRequest(note_id=draft.note_id), metadata=me
    )

    await harness.wait_until_relayed(draft.note_id)
    records = await harness.read_topic(harness.saved_topic)
    assert len(records) == 1
    record = records[0]
    assert record.key == draft.session_id.encode()
    headers = {k: v.decode() for k, v in record.headers}
    assert headers["event-type"] == "notewell.events.v1.NoteSaved"
    event = NoteSaved.FromString(record.value)
    assert headers["event-id"] == event.event_id
    assert (event.session_id, event.clinician_id, event.client_id, event.note_id) == (
        draft.session_id,
        "clin-1",
        "client-7",
        draft.note_id,
    )
    assert event.version == 2
    opened = harness.sealer.open(event.note, Note, context=draft.session_id)
    assert opened == note

    doc = await harness.collection.find_one({"_id": draft.note_id})
    assert doc["status"] == "signed"
    assert doc["version"] == 2
    assert doc["signed_at"] is not None


async def test_a_signed_note_never_changes_again(harness) -> None:
    draft = await stored_draft(harness)
    me = harness.as_clinician("clin-1")
    signed = await harness.notes.SaveNote(
        SaveNoteRequest(note_id=draft.note_id, base_version=1), metadata=me
    )

    for call in (
        harness.notes.UpdateNote(
            UpdateNoteRequest(note_id=draft.note_id, base_version=2, title="Late edit"),
            metadata=me,
        ),
        harness.notes.UpdateNote(
            UpdateNoteRequest(note_id=draft.note_id, base_version=1, title="Late edit"),
            metadata=me,
        ),
        harness.notes.SaveNote(
            SaveNoteRequest(note_id=draft.note_id, base_version=2), metadata=me
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    assert signed == await harness.notes.GetNote(
        GetNoteRequest(note_id=draft.note_id), metadata=me
    )
    await harness.wait_until_relayed(draft.note_id)
    assert len(await harness.read_topic(harness.saved_topic)) == 1
