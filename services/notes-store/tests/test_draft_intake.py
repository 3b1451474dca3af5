"""draft.created becomes the clinician's draft, once, and what cannot be read is
dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from notewell.common.v1.common_pb2 import SealedBox
from notewell.events.v1.events_pb2 import DeadLetter, DraftCreated
from notewell.notes.v1.note_pb2 import NoteStatus
from notewell.notes.v1.notes_store_pb2 import ListNotesRequest, UpdateNoteRequest
from notewell.platform import events

pytestmark = pytest.mark.asyncio


async def test_a_published_draft_is_the_owners_note(harness) -> None:
    event, sent = harness.draft("clin-1", "client-7")
    await harness.publish_draft(event, key=event.session_id)

    note = await harness.wait_for_note("clin-1", sent.note_id)

    assert note.note_id == event.draft_id
    assert (note.session_id, note.clinician_id, note.client_id) == (
        event.session_id,
        "clin-1",
        "client-7",
    )
    assert note.status == NoteStatus.NOTE_STATUS_DRAFT
    assert note.version == 1
    assert note.title == harness.SECRET_TITLE
    assert list(note.sections) == list(sent.sections)
    assert note.session == sent.session
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=harness.as_clinician("clin-1")
    )
    assert [n.note_id for n in listed.notes] == [sent.note_id]
    assert listed.notes[0] == note


async def test_a_redelivered_draft_changes_nothing(harness) -> None:
    event, sent = harness.draft("clin-1", "client-7")
    await harness.publish_draft(event, key=event.session_id)
    await harness.wait_for_note("clin-1", sent.note_id)
    edited = await harness.notes.UpdateNote(
        UpdateNoteRequest(
            note_id=sent.note_id,
            base_version=1,
            title="Edited",
            sections=[harness.section("subjective", "Rewritten by the clinician.")],
        ),
        metadata=harness.as_clinician("clin-1"),
    )

    # The same event again, then a marker on the same key (so the same partition): once
    # the marker is stored, the duplicate before it has been handled.
    await harness.publish_draft(event, key=event.session_id)
    marker, marker_note = harness.draft("clin-1", "client-7")
    await harness.publish_draft(marker, key=event.session_id)
    await harness.wait_for_note("clin-1", marker_note.note_id)

    assert await harness.collection.count_documents({"session_id": event.session_id}) == 1
    again = await harness.wait_for_note("clin-1", sent.note_id)
    assert again == edited
    assert again.version == 2
    assert again.title == "Edited"


async def test_notes_are_listed_newest_session_first(harness) -> None:
    days = [
        datetime(2025, 1, 6, 9, tzinfo=UTC),
        datetime(2025, 2, 3, 9, tzinfo=UTC),
        datetime(2024, 12, 2, 9, tzinfo=UTC),
    ]
    sent = []
    for day in days:
        event, note = harness.draft("clin-1", "client-7", actual_start=day)
        await harness.publish_draft(event, key=event.session_id)
        sent.append(note)
    other, other_note = harness.draft("clin-1", "client-8")
    await harness.publish_draft(other, key=other.session_id)
    for note in [*sent, other_note]:
        await harness.wait_for_note("clin-1", note.note_id)

    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=harness.as_clinician("clin-1")
    )

    assert [n.note_id for n in listed.notes] == [
        sent[1].note_id,
        sent[0].note_id,
        sent[2].note_id,
    ]


async def test_unreadable_drafts_are_dead_lettered(harness) -> None:
    # Sealed for another session: the box is moved, so it must not open.
    moved, moved_note = harness.draft("clin-1", "client-7")
    moved.note.CopyFrom(harness.sealer.seal(moved_note, context="another-session"))
    garbled, _ = harness.draft("clin-1", "client-7")
    garbled.note.CopyFrom(SealedBox(content_type="notewell.notes.v1.Note"))
    no_ids, _ = harness.draft("clin-1", "client-7")
    no_ids.clinician_id = ""
    for event in (moved, garbled, no_ids):
        await harness.publish_draft(event, key=event.session_id)

    async def three_letters() -> list[DeadLetter] | None:
        dlq = events.dead_letter_topic(harness.drafts_topic)
        records = await harness.read_topic(dlq)
        if len(records) < 3:
            return None
        return [DeadLetter.FromString(r.value) for r in records]

    letters = await harness.eventually(three_letters, "drafts were not dead-lettered")

    assert sorted((d.session_id, d.reason_code) for d in letters) == sorted(
        [
            (moved.session_id, "unreadable_note"),
            (garbled.session_id, "unreadable_note"),
            (no_ids.session_id, "missing_field"),
        ]
    )
    assert {d.service for d in letters} == {"notes-store"}
    assert {d.source_topic for d in letters} == {harness.drafts_topic}
    originals = {DraftCreated.FromString(d.original_value).event_id for d in letters}
    assert originals == {moved.event_id, garbled.event_id, no_ids.event_id}
    assert await harness.collection.count_documents({}) == 0
