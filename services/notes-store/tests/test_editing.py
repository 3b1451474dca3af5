"""Editing a draft: every edit names the version it was based on, and none is lost."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from notewell.notes.v1.notes_store_pb2 import GetNoteRequest, UpdateNoteRequest

pytestmark = pytest.mark.asyncio


async def stored_draft(harness, clinician: str = "clin-1"):
    event, sent = harness.draft(clinician, "client-7")
    await harness.publish_draft(event, key=event.session_id)
    return await harness.wait_for_note(clinician, sent.note_id)


async def test_an_edit_replaces_title_and_sections(harness) -> None:
    draft = await stored_draft(harness)
    sections = [
        harness.section("subjective", "Slept better this week."),
        harness.section("risk", "No risk indicators."),
    ]

    edited = await harness.notes.UpdateNote(
        UpdateNoteRequest(
            note_id=draft.note_id, base_version=1, title="Week 3", sections=sections
        ),
        metadata=harness.as_clinician("clin-1"),
    )

    assert edited.version == 2
    assert edited.title == "Week 3"
    assert list(edited.sections) == sections
    assert edited.session == draft.session
    assert edited.created_at == draft.created_at
    assert edited.updated_at.ToDatetime() > draft.updated_at.ToDatetime()
    fetched = await harness.notes.GetNote(
        GetNoteRequest(note_id=draft.note_id), metadata=harness.as_clinician("clin-1")
    )
    assert fetched == edited
    doc = await harness.collection.find_one({"_id": draft.note_id})
    assert doc["version"] == 2
    assert doc["status"] == "draft"


async def test_a_stale_edit_is_aborted_and_loses_nothing(harness) -> None:
    draft = await stored_draft(harness)
    me = harness.as_clinician("clin-1")
    first = await harness.notes.UpdateNote(
        UpdateNoteRequest(
            note_id=draft.note_id,
            base_version=1,
            title="First edit",
            sections=[harness.section("plan", "Keep the first edit.")],
        ),
        metadata=me,
    )

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.notes.UpdateNote(
            UpdateNoteRequest(
                note_id=draft.note_id,
                base_version=1,
                title="Stale edit",
                sections=[harness.section("plan", "Overwrites the first edit.")],
            ),
            metadata=me,
        )

    assert err.value.code() == grpc.StatusCode.ABORTED
    assert "version 2" in err.value.details()
    kept = await harness.notes.GetNote(GetNoteRequest(note_id=draft.note_id), metadata=me)
    assert kept == first
    assert kept.title == "First edit"
    assert kept.version == 2


async def test_of_two_concurrent_edits_exactly_one_wins(harness) -> None:
    draft = await stored_draft(harness)
    me = harness.as_clinician("clin-1")
    titles = [f"Edit {i}" for i in range(6)]

    outcomes = await asyncio.gather(
        *[
            harness.notes.UpdateNote(
                UpdateNoteRequest(
                    note_id=draft.note_id,
                    base_version=1,
                    title=title,
                    sections=[harness.section("plan", title)],
                ),
                metadata=me,
            )
            for title in titles
        ],
        return_exceptions=True,
    )

    winners = [o for o in outcomes if not isinstance(o, Exception)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1, outcomes
    assert all(
        isinstance(o, grpc.aio.AioRpcError) and o.code() == grpc.StatusCode.ABORTED
        for o in losers
    ), losers
    final = await harness.notes.GetNote(
        GetNoteRequest(note_id=draft.note_id), metadata=me
    )
    assert final == winners[0]
    assert final.version == 2
    assert final.sections[0].text == final.title
