"""consent.withdrawn discards the session's drafts for its clinician; signed notes stay,
redelivery changes nothing, and a malformed event is dead-lettered."""

from __future__ import annotations

import logging

import grpc
import pytest

from notewell.events.v1.events_pb2 import ConsentWithdrawn, DeadLetter
from notewell.notes.v1.note_pb2 import NoteStatus
from notewell.notes.v1.notes_store_pb2 import (
    GetNoteRequest,
    ListAuditEventsRequest,
    ListNotesRequest,
    SaveNoteRequest,
)
from notewell.platform import events

pytestmark = pytest.mark.asyncio

ME = "clin-1"
CLIENT = "client-7"


def withdrawal(session_id: str, clinician_id: str = ME) -> ConsentWithdrawn:
    return ConsentWithdrawn(
        event_id=events.new_event_id(),
        session_id=session_id,
        clinician_id=clinician_id,
        client_id=CLIENT,
        occurred_at=events.now_timestamp(),
    )


async def not_found(harness, note_id: str, clinician_id: str = ME) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await harness.notes.GetNote(
            GetNoteRequest(note_id=note_id),
            metadata=harness.as_clinician(clinician_id),
        )
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_withdrawal_discards_the_sessions_drafts_only(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    me = harness.as_clinician(ME)
    consent_topic = harness.settings.topic(events.CONSENT_WITHDRAWN)
    # A signed note of an earlier session of the same client.
    earlier_event, earlier_sent = harness.draft(ME, CLIENT)
    await harness.publish_draft(earlier_event, key=earlier_event.session_id)
    earlier = await harness.wait_for_note(ME, earlier_sent.note_id)
    signed = await harness.notes.SaveNote(
        SaveNoteRequest(note_id=earlier.note_id, base_version=1), metadata=me
    )
    # The session whose consent is withdrawn, and another clinician's draft that
    # happens to carry the same session id.
    event, sent = harness.draft(ME, CLIENT)
    await harness.publish_draft(event, key=event.session_id)
    draft = await harness.wait_for_note(ME, sent.note_id)
    assert draft.status == NoteStatus.NOTE_STATUS_DRAFT
    other_event, other_sent = harness.draft("clin-2", "client-9")
    other_event.session_id = event.session_id
    other_sent.session_id = event.session_id
    other_event.note.CopyFrom(harness.sealer.seal(other_sent, context=event.session_id))
    await harness.publish_draft(other_event, key=other_event.session_id)
    await harness.wait_for_note("clin-2", other_sent.note_id)

    withdrawn = withdrawal(event.session_id)
    await harness.publisher.publish(consent_topic, event.session_id, withdrawn)

    async def discarded() -> dict | None:
        doc = await harness.collection.find_one({"_id": draft.note_id})
        assert doc is not None
        return doc if doc["status"] == "discarded" else None

    doc = await harness.eventually(discarded, "the draft was never discarded")
    assert "sealed_note" not in doc
    assert doc["version"] == 2
    await not_found(harness, draft.note_id)
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id=CLIENT), metadata=me
    )
    assert [n.note_id for n in listed.notes] == [earlier.note_id]

    # The signed note is part of the record and unchanged; the other clinician's
    # draft is theirs.
    kept = await harness.notes.GetNote(
        GetNoteRequest(note_id=earlier.note_id), metadata=me
    )
    assert kept == signed
    assert kept.status == NoteStatus.NOTE_STATUS_SIGNED
    theirs = await harness.notes.GetNote(
        GetNoteRequest(note_id=other_sent.note_id),
        metadata=harness.as_clinician("clin-2"),
    )
    assert theirs.status == NoteStatus.NOTE_STATUS_DRAFT

    trail = await harness.notes.ListAuditEvents(
        ListAuditEventsRequest(note_id=draft.note_id), metadata=me
    )
    changes = [
        (e.action, e.actor_id, e.method, e.version)
        for e in trail.events
        if e.action != "read"
    ]
    assert changes == [
        ("created", "service:drafter", "draft.created", 1),
        ("discarded", "service:consent-withdrawal", "consent.withdrawn", 2),
    ]

    # Redelivered: nothing more changes, and no second entry appears.
    await harness.publisher.publish(consent_topic, event.session_id, withdrawn)

    async def handled_twice() -> bool | None:
        handled = [
            r
            for r in caplog.records
            if r.getMessage() == "consent_withdrawn_drafts_discarded"
        ]
        return True if len(handled) >= 2 else None

    await harness.eventually(handled_twice, "the redelivery was never handled")
    handled = [
        r.__dict__.get("discarded")
        for r in caplog.records
        if r.getMessage() == "consent_withdrawn_drafts_discarded"
    ]
    assert handled == [1, 0]
    again = await harness.collection.find_one({"_id": draft.note_id})
    assert again is not None and again["version"] == 2
    assert again["status"] == "discarded"

    async def copied() -> list | None:
        docs = [
            d async for d in harness.database["audit"].find({"note_id": draft.note_id})
        ]
        return docs if any(d["action"] == "discarded" for d in docs) else None

    entries = await harness.eventually(copied, "the discard entry was never copied")
    assert sum(1 for d in entries if d["action"] == "discarded") == 1
    # No note content in the logs of the flow.
    assert harness.SECRET_TEXT not in caplog.text
    assert harness.SECRET_TITLE not in caplog.text


async def test_a_draft_arriving_after_the_withdrawal_is_discarded(harness) -> None:
    consent_topic = harness.settings.topic(events.CONSENT_WITHDRAWN)
    event, sent = harness.draft(ME, CLIENT)
    withdrawn = withdrawal(event.session_id)
    await harness.publisher.publish(consent_topic, event.session_id, withdrawn)

    async def remembered() -> bool | None:
        doc = await harness.database["withdrawn_sessions"].find_one(
            {"_id": f"{ME}:{event.session_id}"}
        )
        return True if doc is not None else None

    await harness.eventually(remembered, "the withdrawal was never taken in")
    await harness.publish_draft(event, key=event.session_id)

    async def discarded() -> bool | None:
        doc = await harness.collection.find_one({"_id": sent.note_id})
        return True if doc is not None and doc["status"] == "discarded" else None

    await harness.eventually(discarded, "the late draft was never discarded")
    await not_found(harness, sent.note_id)


async def test_malformed_withdrawals_are_dead_lettered(harness) -> None:
    consent_topic = harness.settings.topic(events.CONSENT_WITHDRAWN)
    event, sent = harness.draft(ME, CLIENT)
    await harness.publish_draft(event, key=event.session_id)
    await harness.wait_for_note(ME, sent.note_id)
    no_clinician = withdrawal(event.session_id, clinician_id="")
    await harness.publisher.publish(consent_topic, event.session_id, no_clinician)
    await harness.publisher.publish_raw(
        consent_topic,
        "s-garbled",
        b"\xff\x00 not a protobuf",
        {"content-type": "application/x-protobuf"},
    )

    async def letters() -> list[DeadLetter] | None:
        records = await harness.read_topic(events.dead_letter_topic(consent_topic))
        if len(records) < 2:
            return None
        return [DeadLetter.FromString(r.value) for r in records]

    found = await harness.eventually(letters, "withdrawals were not dead-lettered")
    assert sorted(d.reason_code for d in found) == ["bad_protobuf", "missing_field"]
    assert {d.source_topic for d in found} == {consent_topic}
    assert {d.service for d in found} == {"notes-store"}
    # The draft stays: no valid withdrawal named its clinician.
    doc = await harness.collection.find_one({"_id": sent.note_id})
    assert doc is not None and doc["status"] == "draft"
