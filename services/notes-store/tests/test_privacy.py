"""Note content is stored only sealed, and never reaches the logs."""

from __future__ import annotations

import logging

import bson
import pytest

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    Note,
    NotePreferences,
    NoteStatus,
    NoteTemplate,
    NoteType,
    TemplateHeading,
)
from notewell.notes.v1.notes_store_pb2 import (
    AddAddendumRequest,
    CreateNoteRequest,
    GetNoteRequest,
    GetPreferencesRequest,
    ListAuditEventsRequest,
    ListNotesRequest,
    ListTemplatesRequest,
    SaveNoteRequest,
    SaveTemplateRequest,
    UpdateClientProfileRequest,
    UpdateClinicianProfileRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)
from notewell.platform.logs import JsonFormatter

pytestmark = pytest.mark.asyncio

EDITED_TEXT = "Recalled the saffron ferry crossing with her brother"
ADDENDUM_TEXT = "Phoned after the session about the cobalt kite festival"
INSTRUCTION = "Describe the juniper staircase ritual each time"
TEMPLATE_NAME = "Quince orchard template"
CLIENT_REFERENCE = "Ms. Wintergreen"
PRONOUNS = "xe/xem"
CLINICIAN_NAME = "Ottoline Brackenbury"
CLIENT_NAME = "Peregrine Castellanos-Whit"
DIAGNOSIS = "F42.2 Mixed obsessional thoughts"
PHRASES = (
    "Marmalade lighthouse session",
    "tangerine lighthouse keeper",
    EDITED_TEXT,
    ADDENDUM_TEXT,
    INSTRUCTION,
    TEMPLATE_NAME,
    CLIENT_REFERENCE,
    PRONOUNS,
    CLINICIAN_NAME,
    CLIENT_NAME,
    DIAGNOSIS,
    "1979-06-30",
    "90834",
)
# Per collection, every field a document may hold; content only ever inside sealed_*.
CLEAR_FIELDS = {
    "notes": {
        "_id",
        "session_id",
        "clinician_id",
        "author_id",
        "client_id",
        "status",
        "note_type",
        "version",
        "created_at",
        "updated_at",
        "date_of_service",
        "signed_at",
        "sealed_note",
        "outbox_seq",
        "outbox_pending",
        # Emptied by the relay once note.saved is published; it only ever holds
        # sealed events.
        "outbox",
        # Audit entries queued with each change until the audit relay copies them;
        # ids, an action, a method, a version and a time only.
        "audit_pending",
        "audit_queued",
        "audit_seq",
    },
    # note_id for one note's entry; note_ids and versions for a listing's.
    "audit": {
        "_id",
        "note_id",
        "note_ids",
        "versions",
        "actor_id",
        "action",
        "method",
        "version",
        "at",
    },
    "data_keys": {"_id", "owner_id", "wrapped", "master_key_id", "created_at"},
    "templates": {
        "_id",
        "clinician_id",
        "sealed_template",
        "created_at",
        "updated_at",
    },
    "preferences": {"_id", "sealed_preferences", "updated_at"},
    "clinician_profiles": {"_id", "sealed_profile", "updated_at"},
    "client_profiles": {
        "_id",
        "clinician_id",
        "client_id",
        "sealed_profile",
        "updated_at",
    },
}


async def run_the_whole_flow(harness) -> list[Note]:
    """Profiles recorded; drafts taken in, edited, signed and amended; a template and
    preferences saved; everything read back once."""
    me = harness.as_clinician("clin-1")
    await harness.notes.UpdateClinicianProfile(
        UpdateClinicianProfileRequest(
            profile=ClinicianProfile(display_name=CLINICIAN_NAME, credentials="PsyD")
        ),
        metadata=me,
    )
    await harness.notes.UpdateClientProfile(
        UpdateClientProfileRequest(
            profile=ClientProfile(
                client_id="client-7",
                full_name=CLIENT_NAME,
                date_of_birth="1979-06-30",
                diagnoses=[DIAGNOSIS],
            )
        ),
        metadata=me,
    )
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
    await harness.notes.SaveNote(
        SaveNoteRequest(note_id=notes[1].note_id, base_version=1), metadata=me
    )
    amended = await harness.notes.AddAddendum(
        AddAddendumRequest(note_id=notes[1].note_id, base_version=2, text=ADDENDUM_TEXT),
        metadata=me,
    )
    template = await harness.notes.SaveTemplate(
        SaveTemplateRequest(
            template=NoteTemplate(
                name=TEMPLATE_NAME,
                note_type=NoteType.NOTE_TYPE_PROGRESS,
                headings=[
                    TemplateHeading(key="ritual", title="Ritual", instruction=INSTRUCTION)
                ],
            )
        ),
        metadata=me,
    )
    from_template = await harness.notes.CreateNote(
        CreateNoteRequest(
            client_id="client-7",
            template_id=template.template_id,
            title=harness.SECRET_TITLE,
        ),
        metadata=me,
    )
    await harness.notes.UpdatePreferences(
        UpdatePreferencesRequest(
            preferences=NotePreferences(
                client_reference=CLIENT_REFERENCE, client_pronouns=PRONOUNS
            )
        ),
        metadata=me,
    )
    await harness.notes.GetPreferences(GetPreferencesRequest(), metadata=me)
    await harness.notes.ListTemplates(ListTemplatesRequest(), metadata=me)
    await harness.notes.ListNotes(ListNotesRequest(client_id="client-7"), metadata=me)
    await harness.notes.GetNote(GetNoteRequest(note_id=amended.note_id), metadata=me)
    await harness.notes.ListAuditEvents(
        ListAuditEventsRequest(note_id=amended.note_id), metadata=me
    )
    await harness.wait_until_relayed(amended.note_id)
    return [edited, amended, from_template]


async def test_the_database_holds_no_note_text_in_clear(harness) -> None:
    edited, amended, from_template = await run_the_whole_flow(harness)

    # Every collection the store writes (the local server cannot list them).
    for name, allowed in CLEAR_FIELDS.items():
        docs = [doc async for doc in harness.database[name].find({})]
        assert docs, f"nothing stored in {name}"
        for doc in docs:
            assert set(doc) <= allowed, (name, set(doc) - allowed)
            raw = bson.encode(doc)
            for phrase in PHRASES:
                assert phrase.encode() not in raw, (name, phrase)

    # The content is there, each note sealed for itself with its clinician's key.
    expected = {n.note_id: n for n in (edited, amended, from_template)}
    docs = [doc async for doc in harness.collection.find({})]
    assert sorted(doc["_id"] for doc in docs) == sorted(expected)
    for doc in docs:
        box = SealedBox.FromString(doc["sealed_note"])
        assert box.key_id.startswith("dk:") and not box.wrapped_key
        opened = await harness.keyring.open(box, Note, context=doc["_id"])
        answered = expected[doc["_id"]]
        if opened.status == NoteStatus.NOTE_STATUS_DRAFT:
            # A draft's header is made from the profiles when it is read.
            assert answered.header.client_name == CLIENT_NAME
            assert not opened.HasField("header")
            answered.ClearField("header")
        else:
            assert opened.header.clinician_name == CLINICIAN_NAME
        assert opened == answered
    assert [a.text for a in amended.addenda] == [ADDENDUM_TEXT]


async def test_no_note_text_in_the_logs(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    await run_the_whole_flow(harness)

    events = {record.getMessage() for record in caplog.records}
    assert {
        "draft_stored",
        "note_updated",
        "note_signed",
        "addendum_added",
        "template_saved",
        "note_created",
        "preferences_updated",
        "clinician_profile_updated",
        "client_profile_updated",
    } <= events
    formatter = JsonFormatter()
    logged = caplog.text + "\n".join(formatter.format(r) for r in caplog.records)
    for phrase in (*PHRASES, "lighthouse", "saffron", "juniper", "Wintergreen"):
        assert phrase not in logged
