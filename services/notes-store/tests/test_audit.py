"""The audit trail: a listing is one entry naming every note it returned, and each of
those notes' trails shows it."""

from __future__ import annotations

import pytest

from notewell.notes.v1.notes_store_pb2 import (
    CreateNoteRequest,
    ListAuditEventsRequest,
    ListNotesRequest,
    UpdateNoteRequest,
)

pytestmark = pytest.mark.asyncio

ME = "clin-1"


async def test_a_listing_is_one_entry_for_all_its_notes(harness) -> None:
    me = harness.as_clinician(ME)
    created = [
        await harness.notes.CreateNote(
            CreateNoteRequest(client_id="client-7"), metadata=me
        )
        for _ in range(3)
    ]
    await harness.notes.UpdateNote(
        UpdateNoteRequest(note_id=created[0].note_id, base_version=1, title="T"),
        metadata=me,
    )
    # Another client's note is in no listing of client-7.
    elsewhere = await harness.notes.CreateNote(
        CreateNoteRequest(client_id="client-8"), metadata=me
    )
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert sorted(n.note_id for n in listed.notes) == sorted(n.note_id for n in created)

    audit = harness.database["audit"]
    listings = [d async for d in audit.find({"method": "NotesStore/ListNotes"})]
    assert len(listings) == 1
    assert listings[0]["note_ids"] == [n.note_id for n in listed.notes]
    versions = {n.note_id: n.version for n in listed.notes}
    assert listings[0]["versions"] == [versions[i] for i in listings[0]["note_ids"]]
    assert versions[created[0].note_id] == 2

    for note in created:
        trail = await harness.notes.ListAuditEvents(
            ListAuditEventsRequest(note_id=note.note_id), metadata=me
        )
        reads = [
            (e.note_id, e.action, e.actor_id, e.version)
            for e in trail.events
            if e.method == "NotesStore/ListNotes"
        ]
        assert reads == [(note.note_id, "read", ME, versions[note.note_id])]
        # The listing comes after the note's own creation.
        assert trail.events[0].action == "created"
        assert trail.events[-1].method == "NotesStore/ListNotes"
    other = await harness.notes.ListAuditEvents(
        ListAuditEventsRequest(note_id=elsewhere.note_id), metadata=me
    )
    assert [e.method for e in other.events] == ["NotesStore/CreateNote"]
