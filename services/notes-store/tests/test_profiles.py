"""Clinician and client profiles: kept sealed, validated, and printed on notes as a
record header that a signed note keeps for good."""

from __future__ import annotations

import grpc
import pytest

from notewell.common.v1.common_pb2 import SealedBox
from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    Note,
    NoteStatus,
    RecordHeader,
)
from notewell.notes.v1.notes_store_pb2 import (
    AddAddendumRequest,
    CreateNoteRequest,
    GetClientProfileRequest,
    GetClinicianProfileRequest,
    GetNoteRequest,
    ListNotesRequest,
    SaveNoteRequest,
    UpdateClientProfileRequest,
    UpdateClinicianProfileRequest,
)

pytestmark = pytest.mark.asyncio

CLIENT_NAME = "Quillon Verbeck-Astaire"
BIRTH_DATE = "1987-11-23"
DIAGNOSIS = "F41.1 Generalized anxiety disorder"


def dana() -> ClinicianProfile:
    return ClinicianProfile(
        display_name="Dana Reyes", credentials="LCSW", practice_name="Elm Street Therapy"
    )


def client_profile(client_id: str) -> ClientProfile:
    return ClientProfile(
        client_id=client_id,
        full_name=CLIENT_NAME,
        preferred_name="Quill",
        pronouns="they/them",
        date_of_birth=BIRTH_DATE,
        client_identifier="CH-0042",
        diagnoses=[DIAGNOSIS, "Z63.0"],
    )


async def set_profiles(harness, clinician_id: str, client_id: str) -> None:
    me = harness.as_clinician(clinician_id)
    await harness.notes.UpdateClinicianProfile(
        UpdateClinicianProfileRequest(profile=dana()), metadata=me
    )
    await harness.notes.UpdateClientProfile(
        UpdateClientProfileRequest(profile=client_profile(client_id)), metadata=me
    )


def expected_header(clinician: ClinicianProfile, client: ClientProfile) -> RecordHeader:
    return RecordHeader(
        practice_name=clinician.practice_name,
        clinician_name=clinician.display_name,
        clinician_credentials=clinician.credentials,
        client_name=client.full_name,
        client_date_of_birth=client.date_of_birth,
        client_identifier=client.client_identifier,
        diagnoses=client.diagnoses,
    )


async def test_profiles_round_trip_and_are_sealed_at_rest(harness) -> None:
    me = harness.as_clinician("clin-1")
    empty = await harness.notes.GetClinicianProfile(
        GetClinicianProfileRequest(), metadata=me
    )
    assert empty == ClinicianProfile()

    await set_profiles(harness, "clin-1", "client-7")

    assert (
        await harness.notes.GetClinicianProfile(GetClinicianProfileRequest(), metadata=me)
        == dana()
    )
    got = await harness.notes.GetClientProfile(
        GetClientProfileRequest(client_id="client-7"), metadata=me
    )
    assert got == client_profile("client-7")

    for name in ("clinician_profiles", "client_profiles"):
        docs = [doc async for doc in harness.database[name].find({})]
        assert len(docs) == 1
        raw = repr(docs)
        for secret in ("Dana Reyes", "Elm Street", CLIENT_NAME, BIRTH_DATE, "F41.1"):
            assert secret not in raw
            assert secret.encode() not in b"".join(
                v for v in docs[0].values() if isinstance(v, bytes)
            )


async def test_a_client_profile_that_was_never_recorded_is_not_found(harness) -> None:
    me = harness.as_clinician("clin-1")
    await set_profiles(harness, "clin-1", "client-7")
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.notes.GetClientProfile(
            GetClientProfileRequest(client_id="client-8"), metadata=me
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # Another clinician's record of the same client id is invisible too.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.notes.GetClientProfile(
            GetClientProfileRequest(client_id="client-7"),
            metadata=harness.as_clinician("clin-2"),
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def _with(**fields: object) -> ClientProfile:
    profile = client_profile("client-7")
    for name, value in fields.items():
        if name == "diagnoses":
            del profile.diagnoses[:]
            profile.diagnoses.extend(value)  # type: ignore[arg-type]
        else:
            setattr(profile, name, value)
    return profile


INVALID = {
    "day first": (_with(date_of_birth="23/11/1987"), "23/11/1987"),
    "no such day": (_with(date_of_birth="1987-02-30"), "1987-02-30"),
    "unpadded": (_with(date_of_birth="1987-1-3"), "1987-1-3"),
    "future": (_with(date_of_birth="2999-01-01"), "2999-01-01"),
    "too early": (_with(date_of_birth="1850-01-01"), "1850-01-01"),
    "long name": (_with(full_name="Quillon " * 40), "Quillon"),
    "long pronouns": (_with(pronouns="x" * 51), "xxxxx"),
    "many diagnoses": (_with(diagnoses=["F41.1"] * 51), "F41.1"),
    "blank diagnosis": (_with(diagnoses=["F41.1", " "]), "F41.1"),
    "no client id": (_with(client_id=""), CLIENT_NAME),
}


async def test_invalid_client_profiles_are_refused_without_echoing_them(
    harness,
) -> None:
    me = harness.as_clinician("clin-1")
    for case, (profile, leaked) in INVALID.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await harness.notes.UpdateClientProfile(
                UpdateClientProfileRequest(profile=profile), metadata=me
            )
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, case
        assert err.value.details().startswith("profile."), case
        assert leaked not in err.value.details(), case
    assert await harness.database["client_profiles"].count_documents({}) == 0


async def test_an_overlong_clinician_profile_is_refused(harness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.notes.UpdateClinicianProfile(
            UpdateClinicianProfileRequest(
                profile=ClinicianProfile(display_name="D" * 201)
            ),
            metadata=harness.as_clinician("clin-1"),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == "profile.display_name is longer than 200 characters"


async def test_drafts_show_the_current_profiles_and_signed_notes_keep_theirs(
    harness,
) -> None:
    me = harness.as_clinician("clin-1")
    event, sent = harness.draft("clin-1", "client-7")
    await harness.publish_draft(event, key=event.session_id)
    draft = await harness.wait_for_note("clin-1", sent.note_id)
    # Nothing recorded yet: an empty header.
    assert draft.header == RecordHeader()

    await set_profiles(harness, "clin-1", "client-7")
    header = expected_header(dana(), client_profile("client-7"))
    draft = await harness.notes.GetNote(GetNoteRequest(note_id=sent.note_id), metadata=me)
    assert draft.header == header
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert [n.header for n in listed.notes] == [header]
    # The draft's stored form holds no header; it is made when the draft is read.
    doc = await harness.collection.find_one({"_id": sent.note_id})
    box = SealedBox.FromString(bytes(doc["sealed_note"]))
    stored = await harness.keyring.open(box, Note, context=sent.note_id)
    assert stored.header == RecordHeader()

    signed = await harness.notes.SaveNote(
        SaveNoteRequest(note_id=sent.note_id, base_version=1), metadata=me
    )
    assert signed.status == NoteStatus.NOTE_STATUS_SIGNED
    assert signed.header == header
    assert (signed.signature.signer_name, signed.signature.signer_credentials) == (
        "Dana Reyes",
        "LCSW",
    )

    await harness.wait_until_relayed(sent.note_id)
    (record,) = await harness.read_topic(harness.saved_topic)
    saved = NoteSaved.FromString(record.value)
    announced = harness.sealer.open(saved.note, Note, context=event.session_id)
    assert announced.header == header
    assert announced.signature.signer_name == "Dana Reyes"

    # The clinician and the client's details change later.
    renamed = ClinicianProfile(
        display_name="Dana Reyes-Okafor", credentials="LICSW", practice_name="Oak"
    )
    moved = _with(full_name="Quillon Astaire", diagnoses=["F33.1"])
    await harness.notes.UpdateClinicianProfile(
        UpdateClinicianProfileRequest(profile=renamed), metadata=me
    )
    await harness.notes.UpdateClientProfile(
        UpdateClientProfileRequest(profile=moved), metadata=me
    )

    again = await harness.notes.GetNote(GetNoteRequest(note_id=sent.note_id), metadata=me)
    assert again.header == header
    assert again.signature.signer_name == "Dana Reyes"
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert [n.header for n in listed.notes] == [header]

    # A new draft shows the new details; an addendum is signed with them.
    fresh = await harness.notes.CreateNote(
        CreateNoteRequest(client_id="client-7"), metadata=me
    )
    assert fresh.header == expected_header(renamed, moved)
    amended = await harness.notes.AddAddendum(
        AddAddendumRequest(note_id=sent.note_id, base_version=2, text="Later."),
        metadata=me,
    )
    assert amended.header == header
    assert amended.signature.signer_name == "Dana Reyes"
    (addendum,) = amended.addenda
    assert (addendum.signature.signer_name, addendum.signature.signer_credentials) == (
        "Dana Reyes-Okafor",
        "LICSW",
    )
