"""A note's life: created blank or from a template, edited as a draft, signed into the
record, amended by addenda, or discarded; psychotherapy notes kept apart."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.note_pb2 import (
    Note,
    NoteFormat,
    NoteOrigin,
    NotePreferences,
    NoteStatus,
    NoteTemplate,
    NoteType,
    TemplateHeading,
)
from notewell.notes.v1.notes_store_pb2 import (
    AddAddendumRequest,
    CreateNoteRequest,
    DiscardNoteRequest,
    GetNoteRequest,
    ListAuditEventsRequest,
    ListClientsRequest,
    ListNotesRequest,
    SaveNoteRequest,
    SaveTemplateRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)

pytestmark = pytest.mark.asyncio

ME = "clin-1"


def at(year: int, month: int, day: int) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime(year, month, day, 15, 0, tzinfo=UTC))
    return stamp


async def refusal(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


async def create(harness, client_id: str = "client-7", **fields) -> Note:
    return await harness.notes.CreateNote(
        CreateNoteRequest(client_id=client_id, **fields),
        metadata=harness.as_clinician(ME),
    )


async def sign(harness, note: Note) -> Note:
    return await harness.notes.SaveNote(
        SaveNoteRequest(note_id=note.note_id, base_version=note.version),
        metadata=harness.as_clinician(ME),
    )


async def test_notes_start_blank_or_from_a_template(harness) -> None:
    me = harness.as_clinician(ME)

    progress = await create(
        harness,
        template_id="progress-note",
        title="Week 3",
        date_of_service=at(2025, 5, 6),
    )
    assert [s.key for s in progress.sections] == [
        "subjective",
        "objective",
        "assessment",
        "plan",
    ]
    assert all(s.text == "" for s in progress.sections)
    assert progress.note_type == NoteType.NOTE_TYPE_PROGRESS
    assert progress.status == NoteStatus.NOTE_STATUS_DRAFT
    assert progress.origin == NoteOrigin.NOTE_ORIGIN_CLINICIAN
    assert (progress.author_id, progress.clinician_id) == (ME, ME)
    assert progress.date_of_service == at(2025, 5, 6)
    assert (progress.version, progress.format, progress.title) == (1, "SOAP", "Week 3")

    process = await create(harness, template_id="process-note")
    assert process.note_type == NoteType.NOTE_TYPE_PSYCHOTHERAPY
    interim = await create(harness, template_id="interim-update")
    assert interim.note_type == NoteType.NOTE_TYPE_INTERIM_UPDATE

    # A blank note takes the clinician's preferred format.
    await harness.notes.UpdatePreferences(
        UpdatePreferencesRequest(
            preferences=NotePreferences(format=NoteFormat.NOTE_FORMAT_BIRP)
        ),
        metadata=me,
    )
    blank = await create(harness, note_type=NoteType.NOTE_TYPE_INTERIM_UPDATE)
    assert (blank.format, list(blank.sections)) == ("BIRP", [])
    assert blank.note_type == NoteType.NOTE_TYPE_INTERIM_UPDATE

    own = await harness.notes.SaveTemplate(
        SaveTemplateRequest(
            template=NoteTemplate(
                name="Couples",
                note_type=NoteType.NOTE_TYPE_PROGRESS,
                headings=[
                    TemplateHeading(key="dynamics", title="Dynamics", instruction="x"),
                    TemplateHeading(key="homework", title="Homework", instruction="y"),
                ],
            )
        ),
        metadata=me,
    )
    from_own = await create(harness, template_id=own.template_id)
    assert [(s.key, s.title) for s in from_own.sections] == [
        ("dynamics", "Dynamics"),
        ("homework", "Homework"),
    ]
    assert from_own.template_id == own.template_id

    error = await refusal(create(harness, template_id="no-such-template"))
    assert error.code() == grpc.StatusCode.NOT_FOUND
    error = await refusal(create(harness, client_id=" "))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT

    stored = await harness.notes.GetNote(
        GetNoteRequest(note_id=progress.note_id), metadata=me
    )
    assert stored == progress


async def test_a_signed_note_never_changes(harness) -> None:
    me = harness.as_clinician(ME)
    draft = await create(harness, template_id="progress-note")

    early = await refusal(
        harness.notes.AddAddendum(
            AddAddendumRequest(note_id=draft.note_id, base_version=1, text="Too soon."),
            metadata=me,
        )
    )
    assert early.code() == grpc.StatusCode.FAILED_PRECONDITION

    signed = await sign(harness, draft)
    calls = [
        harness.notes.UpdateNote(
            UpdateNoteRequest(note_id=draft.note_id, base_version=2, title="Changed"),
            metadata=me,
        ),
        harness.notes.SaveNote(
            SaveNoteRequest(note_id=draft.note_id, base_version=2), metadata=me
        ),
        harness.notes.DiscardNote(
            DiscardNoteRequest(note_id=draft.note_id, base_version=2), metadata=me
        ),
    ]
    for call in calls:
        error = await refusal(call)
        assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert error.details() == "note is signed and can no longer be changed"
    assert signed == await harness.notes.GetNote(
        GetNoteRequest(note_id=draft.note_id), metadata=me
    )


async def test_addenda_follow_in_order_each_signed_and_published(harness) -> None:
    me = harness.as_clinician(ME)
    draft = await create(harness, template_id="progress-note", session_id="s-amend")
    signed = await sign(harness, draft)

    first = await harness.notes.AddAddendum(
        AddAddendumRequest(note_id=draft.note_id, base_version=2, text="Called back."),
        metadata=me,
    )
    stale = await refusal(
        harness.notes.AddAddendum(
            AddAddendumRequest(note_id=draft.note_id, base_version=2, text="Lost."),
            metadata=me,
        )
    )
    assert stale.code() == grpc.StatusCode.ABORTED
    second = await harness.notes.AddAddendum(
        AddAddendumRequest(note_id=draft.note_id, base_version=3, text="Risk reviewed."),
        metadata=me,
    )

    assert [a.text for a in second.addenda] == ["Called back.", "Risk reviewed."]
    assert (first.version, second.version) == (3, 4)
    stamps = [signed.signature.signed_at.ToDatetime()]
    for addendum in second.addenda:
        assert addendum.author_id == ME
        assert addendum.signature.signed_by == ME
        stamps.append(addendum.signature.signed_at.ToDatetime())
    assert stamps == sorted(stamps)
    assert len({a.addendum_id for a in second.addenda}) == 2
    # The signed body itself is exactly as signed.
    for name in ("title", "sections", "signature", "status", "date_of_service"):
        assert getattr(second, name) == getattr(signed, name), name

    await harness.wait_until_relayed(draft.note_id)
    records = await harness.read_topic(harness.saved_topic)
    published = [NoteSaved.FromString(r.value) for r in records]
    assert [e.version for e in published] == [2, 3, 4]
    opened = [harness.sealer.open(e.note, Note, context="s-amend") for e in published]
    assert [len(n.addenda) for n in opened] == [0, 1, 2]
    assert opened[-1] == second


async def test_discarding_a_draft_leaves_only_its_trail(harness) -> None:
    me = harness.as_clinician(ME)
    draft = await create(harness, template_id="progress-note", title="Never mind")

    stale = await refusal(
        harness.notes.DiscardNote(
            DiscardNoteRequest(note_id=draft.note_id, base_version=5), metadata=me
        )
    )
    assert stale.code() == grpc.StatusCode.ABORTED
    await harness.notes.DiscardNote(
        DiscardNoteRequest(note_id=draft.note_id, base_version=1), metadata=me
    )

    error = await refusal(
        harness.notes.GetNote(GetNoteRequest(note_id=draft.note_id), metadata=me)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert list(listed.notes) == []
    clients = await harness.notes.ListClients(ListClientsRequest(), metadata=me)
    assert list(clients.clients) == []
    doc = await harness.collection.find_one({"_id": draft.note_id})
    assert doc is not None and doc["status"] == "discarded"
    assert "sealed_note" not in doc

    trail = await harness.notes.ListAuditEvents(
        ListAuditEventsRequest(note_id=draft.note_id), metadata=me
    )
    assert [(e.action, e.method, e.version) for e in trail.events] == [
        ("created", "NotesStore/CreateNote", 1),
        ("discarded", "NotesStore/DiscardNote", 2),
    ]


async def test_psychotherapy_notes_are_kept_apart(harness) -> None:
    me = harness.as_clinician(ME)
    progress = await create(
        harness, template_id="progress-note", date_of_service=at(2025, 5, 6)
    )
    process = await create(
        harness, template_id="process-note", date_of_service=at(2025, 5, 7)
    )

    default = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert [n.note_id for n in default.notes] == [progress.note_id]
    asked = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7", include_psychotherapy_notes=True),
        metadata=me,
    )
    assert [n.note_id for n in asked.notes] == [process.note_id, progress.note_id]
    got = await harness.notes.GetNote(
        GetNoteRequest(note_id=process.note_id), metadata=me
    )
    assert got.note_type == NoteType.NOTE_TYPE_PSYCHOTHERAPY
    clients = await harness.notes.ListClients(ListClientsRequest(), metadata=me)
    assert [(c.client_id, c.note_count) for c in clients.clients] == [("client-7", 1)]

    # Signing a process note announces nothing: note.saved feeds exports.
    await sign(harness, process)
    await sign(harness, progress)
    await harness.wait_until_relayed(progress.note_id)
    await harness.wait_until_relayed(process.note_id)
    records = await harness.read_topic(harness.saved_topic)
    assert [NoteSaved.FromString(r.value).note_id for r in records] == [progress.note_id]


async def test_the_dashboard_lists_clients_by_latest_session(harness) -> None:
    me = harness.as_clinician(ME)
    await create(harness, "client-a", date_of_service=at(2025, 1, 10))
    await create(harness, "client-a", date_of_service=at(2025, 3, 10))
    await create(harness, "client-b", date_of_service=at(2025, 2, 10))
    await create(harness, "client-b", date_of_service=at(2025, 1, 5))
    await create(harness, "client-b", date_of_service=at(2025, 1, 6))
    await create(
        harness, "client-c", date_of_service=at(2025, 4, 1), template_id="process-note"
    )
    await harness.notes.CreateNote(
        CreateNoteRequest(client_id="client-z"), metadata=harness.as_clinician("clin-2")
    )

    answer = await harness.notes.ListClients(ListClientsRequest(), metadata=me)

    assert [
        (c.client_id, c.note_count, c.last_date_of_service) for c in answer.clients
    ] == [("client-a", 2, at(2025, 3, 10)), ("client-b", 3, at(2025, 2, 10))]


async def test_the_trail_records_who_did_what(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    me = harness.as_clinician(ME)
    event, sent = harness.draft(ME, "client-7")
    await harness.publish_draft(event, key=event.session_id)
    draft = await harness.wait_for_note(ME, sent.note_id)
    # Redelivery of the same event records nothing more.
    await harness.publish_draft(event, key=event.session_id)

    async def redelivered() -> bool | None:
        messages = {r.getMessage() for r in caplog.records}
        return True if "draft_already_stored" in messages else None

    await harness.eventually(redelivered, "the redelivered draft was never handled")
    edited = await harness.notes.UpdateNote(
        UpdateNoteRequest(note_id=draft.note_id, base_version=1, title="Edited"),
        metadata=me,
    )
    signed = await sign(harness, edited)
    await harness.notes.AddAddendum(
        AddAddendumRequest(note_id=draft.note_id, base_version=3, text="More."),
        metadata=me,
    )
    await harness.notes.ListNotes(ListNotesRequest(client_id="client-7"), metadata=me)
    assert signed.version == 3

    async def trail():
        answer = await harness.notes.ListAuditEvents(
            ListAuditEventsRequest(note_id=draft.note_id), metadata=me
        )
        # wait_for_note's reads come first; drop them.
        events = [e for e in answer.events if e.method != "NotesStore/GetNote"]
        return events if len(events) == 5 else None

    events = await harness.eventually(trail, "trail never complete")
    assert [(e.action, e.actor_id, e.method, e.version) for e in events] == [
        ("created", "service:drafter", "draft.created", 1),
        ("changed", ME, "NotesStore/UpdateNote", 2),
        ("signed", ME, "NotesStore/SaveNote", 3),
        ("addendum_added", ME, "NotesStore/AddAddendum", 4),
        ("read", ME, "NotesStore/ListNotes", 4),
    ]
    stamps = [e.occurred_at.ToDatetime() for e in events]
    assert stamps == sorted(stamps)

    audit = harness.mongo[harness.settings.mongodb_database]["audit"]

    async def copied() -> list | None:
        docs = [doc async for doc in audit.find({"note_id": draft.note_id})]
        changes = [d for d in docs if d["action"] != "read"]
        return docs if len(changes) == 4 else None

    # Changes' entries reach the collection through the audit relay.
    docs = await harness.eventually(copied, "entries never copied into the trail")
    assert sum(1 for d in docs if d["action"] == "created") == 1
    # The listing is one entry naming every note it returned.
    listings = [doc async for doc in audit.find({"note_ids": draft.note_id})]
    assert len(listings) == 1
    assert listings[0]["note_ids"] == [draft.note_id]
    assert listings[0]["versions"] == [4]
    assert set(listings[0]) == {
        "_id",
        "note_ids",
        "versions",
        "actor_id",
        "action",
        "method",
        "at",
    }
    for doc in docs:
        assert set(doc) == {
            "_id",
            "note_id",
            "actor_id",
            "action",
            "method",
            "version",
            "at",
        }
