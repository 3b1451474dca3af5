"""Only the note's own clinician, with a valid token, reaches a note."""

from __future__ import annotations

import grpc
import jwt
import pytest

from notewell.notes.v1.note_pb2 import NoteStatus
from notewell.notes.v1.notes_store_pb2 import (
    GetNoteRequest,
    ListNotesRequest,
    SaveNoteRequest,
    UpdateNoteRequest,
)
from notewell.platform import auth

pytestmark = pytest.mark.asyncio


async def refusal(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    return err.value


async def test_another_clinician_cannot_tell_the_note_exists(harness) -> None:
    event, sent = harness.draft("clin-1", "client-7")
    await harness.publish_draft(event, key=event.session_id)
    await harness.wait_for_note("clin-1", sent.note_id)
    intruder = harness.as_clinician("clin-2")

    for note_id in (sent.note_id, "no-such-note"):
        calls = [
            harness.notes.GetNote(GetNoteRequest(note_id=note_id), metadata=intruder),
            harness.notes.UpdateNote(
                UpdateNoteRequest(note_id=note_id, base_version=1, title="Mine now"),
                metadata=intruder,
            ),
            harness.notes.SaveNote(
                SaveNoteRequest(note_id=note_id, base_version=1), metadata=intruder
            ),
        ]
        for call in calls:
            error = await refusal(call)
            assert error.code() == grpc.StatusCode.NOT_FOUND
            assert error.details() == "note not found"
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=intruder
    )
    assert list(listed.notes) == []

    untouched = await harness.wait_for_note("clin-1", sent.note_id)
    assert untouched.version == 1
    assert untouched.status == NoteStatus.NOTE_STATUS_DRAFT
    assert untouched.title == harness.SECRET_TITLE
    assert await harness.collection.count_documents({"outbox_pending": True}) == 0


async def test_calls_without_a_valid_token_are_unauthenticated(harness) -> None:
    settings = harness.settings
    forged = jwt.encode(
        {
            "sub": "clin-1",
            "iss": settings.auth_issuer,
            "aud": settings.auth_audience,
            "exp": 4_102_444_800,
        },
        "not-the-gateway-secret-but-long-enough-for-hs256",
        algorithm="HS256",
    )
    no_token: tuple[tuple[str, str], ...] = ()
    not_bearer = (("authorization", "Basic Y2xpbi0xOnB3"),)
    expired = auth.bearer(auth.mint_token(settings, "clin-1", ttl_seconds=-60))
    wrong_audience = auth.bearer(
        auth.mint_token(settings, "clin-1", audience="some-other-service")
    )
    for metadata in (no_token, not_bearer, expired, wrong_audience, auth.bearer(forged)):
        calls = [
            harness.notes.ListNotes(ListNotesRequest(client_id="c"), metadata=metadata),
            harness.notes.GetNote(GetNoteRequest(note_id="n"), metadata=metadata),
            harness.notes.UpdateNote(
                UpdateNoteRequest(note_id="n", base_version=1), metadata=metadata
            ),
            harness.notes.SaveNote(
                SaveNoteRequest(note_id="n", base_version=1), metadata=metadata
            ),
        ]
        for call in calls:
            error = await refusal(call)
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED

    # The same calls with a valid token get past authentication.
    valid = harness.as_clinician("clin-1")
    error = await refusal(
        harness.notes.GetNote(GetNoteRequest(note_id="n"), metadata=valid)
    )
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_malformed_requests_are_invalid_arguments(harness) -> None:
    me = harness.as_clinician("clin-1")
    cases = [
        (
            harness.notes.ListNotes(ListNotesRequest(client_id=" "), metadata=me),
            "client_id is required",
        ),
        (harness.notes.GetNote(GetNoteRequest(), metadata=me), "note_id is required"),
        (
            harness.notes.UpdateNote(UpdateNoteRequest(note_id="n"), metadata=me),
            "base_version must be at least 1",
        ),
        (
            harness.notes.UpdateNote(
                UpdateNoteRequest(
                    note_id="n",
                    base_version=1,
                    sections=[harness.section("plan", "a"), harness.section("plan", "b")],
                ),
                metadata=me,
            ),
            "section 1 repeats an earlier section's key",
        ),
        (
            harness.notes.SaveNote(SaveNoteRequest(base_version=1), metadata=me),
            "note_id is required",
        ),
    ]
    for call, details in cases:
        error = await refusal(call)
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error.details() == details
