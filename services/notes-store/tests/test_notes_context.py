"""NotesContext: what the drafter and prompts may read about a client, for services
with a service token only, and only the named clinician's signed record."""

from __future__ import annotations

import socket
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import grpc
import pytest

from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    DetailLevel,
    NoteFormat,
    NotePreferences,
    NoteTemplate,
    NoteType,
    RecordHeader,
    TemplateHeading,
)
from notewell.notes.v1.notes_store_pb2 import (
    ClientContext,
    CreateNoteRequest,
    DiscardNoteRequest,
    GetClientContextRequest,
    ListAuditEventsRequest,
    SaveNoteRequest,
    SaveTemplateRequest,
    UpdateClientProfileRequest,
    UpdateClinicianProfileRequest,
    UpdatePreferencesRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesContextStub
from notewell.notes_store.preferences import default_preferences
from notewell.platform import auth
from notewell.platform.notes_context import ContextUnavailable, NotesContextClient

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def context_stub(app) -> AsyncIterator[NotesContextStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
        yield NotesContextStub(channel)


def unused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def as_service(harness, name: str = "drafter", **kwargs: int):
    return auth.bearer(auth.mint_service_token(harness.settings, name, **kwargs))


async def note(
    harness,
    clinician_id: str,
    client_id: str,
    day: int,
    note_type: NoteType.ValueType = NoteType.NOTE_TYPE_PROGRESS,
    session_id: str = "",
    sign: bool = True,
) -> str:
    """A note of the clinician's about the client on 2025-03-<day>; its id."""
    me = harness.as_clinician(clinician_id)
    request = CreateNoteRequest(
        client_id=client_id, note_type=note_type, session_id=session_id, title=f"d{day}"
    )
    request.date_of_service.FromDatetime(datetime(2025, 3, day, 15, tzinfo=UTC))
    created = await harness.notes.CreateNote(request, metadata=me)
    if sign:
        await harness.notes.SaveNote(
            SaveNoteRequest(note_id=created.note_id, base_version=1), metadata=me
        )
    return created.note_id


async def read(
    stub: NotesContextStub, harness, clinician_id: str, client_id: str, **kwargs
) -> ClientContext:
    request = GetClientContextRequest(
        clinician_id=clinician_id, client_id=client_id, **kwargs
    )
    return await stub.GetClientContext(request, metadata=as_service(harness))


async def test_context_holds_only_the_clinicians_signed_record_newest_first(
    harness, context_stub
) -> None:
    me = harness.as_clinician("clin-1")
    await harness.notes.UpdateClinicianProfile(
        UpdateClinicianProfileRequest(
            profile=ClinicianProfile(display_name="Dana Reyes", credentials="LCSW")
        ),
        metadata=me,
    )
    progress = await note(harness, "clin-1", "client-7", 1, session_id="s-a")
    current = await note(harness, "clin-1", "client-7", 5, session_id="s-current")
    interim = await note(
        harness, "clin-1", "client-7", 10, NoteType.NOTE_TYPE_INTERIM_UPDATE
    )
    await note(harness, "clin-1", "client-7", 12, NoteType.NOTE_TYPE_PSYCHOTHERAPY)
    await note(harness, "clin-1", "client-7", 15, sign=False)
    discarded = await note(harness, "clin-1", "client-7", 16, sign=False)
    await harness.notes.DiscardNote(
        DiscardNoteRequest(note_id=discarded, base_version=1), metadata=me
    )
    await note(harness, "clin-1", "client-8", 20)
    theirs = await note(harness, "clin-2", "client-7", 20)

    context = await read(
        context_stub,
        harness,
        "clin-1",
        "client-7",
        max_notes=10,
        exclude_session_id="s-current",
    )
    assert [n.note_id for n in context.notes] == [interim, progress]
    assert context.preferences == default_preferences()
    assert context.clinician == ClinicianProfile(
        display_name="Dana Reyes", credentials="LCSW"
    )
    assert not context.has_client
    assert not context.has_custom_template
    # Each note as it was signed, header included.
    assert context.notes[0].header == RecordHeader(
        clinician_name="Dana Reyes", clinician_credentials="LCSW"
    )
    assert context.notes[0].signature.signer_name == "Dana Reyes"

    everything = await read(context_stub, harness, "clin-1", "client-7", max_notes=10)
    assert [n.note_id for n in everything.notes] == [interim, current, progress]
    newest = await read(context_stub, harness, "clin-1", "client-7", max_notes=2)
    assert [n.note_id for n in newest.notes] == [interim, current]
    assert list((await read(context_stub, harness, "clin-1", "client-7")).notes) == []

    others = await read(context_stub, harness, "clin-2", "client-7", max_notes=10)
    assert [n.note_id for n in others.notes] == [theirs]
    assert others.clinician == ClinicianProfile()
    nobody = await read(context_stub, harness, "clin-3", "client-7", max_notes=10)
    assert list(nobody.notes) == []

    # Each note handed out is in its audit trail as read by the service.
    trail = await harness.notes.ListAuditEvents(
        ListAuditEventsRequest(note_id=interim), metadata=me
    )
    reads = [
        (e.actor_id, e.action, e.method, e.version)
        for e in trail.events
        if e.actor_id.startswith("service:")
    ]
    assert reads == [("service:drafter", "read", "NotesContext/GetClientContext", 2)] * 3


async def test_context_carries_profiles_preferences_and_the_custom_template(
    harness, context_stub
) -> None:
    me = harness.as_clinician("clin-1")
    client = ClientProfile(
        client_id="client-7",
        full_name="Quillon Verbeck-Astaire",
        preferred_name="Quill",
        pronouns="they/them",
        date_of_birth="1987-11-23",
    )
    await harness.notes.UpdateClientProfile(
        UpdateClientProfileRequest(profile=client), metadata=me
    )
    template = await harness.notes.SaveTemplate(
        SaveTemplateRequest(
            template=NoteTemplate(
                name="Group check-in",
                note_type=NoteType.NOTE_TYPE_PROGRESS,
                headings=[TemplateHeading(key="mood", title="Mood", instruction="How.")],
            )
        ),
        metadata=me,
    )
    preferences = NotePreferences(
        format=NoteFormat.NOTE_FORMAT_CUSTOM,
        custom_template_id=template.template_id,
        client_reference="first name",
        detail_level=DetailLevel.DETAIL_LEVEL_BRIEF,
    )
    await harness.notes.UpdatePreferences(
        UpdatePreferencesRequest(preferences=preferences), metadata=me
    )

    context = await read(context_stub, harness, "clin-1", "client-7", max_notes=3)
    assert context.has_client
    assert context.client == client
    assert context.preferences == preferences
    assert context.has_custom_template
    assert context.custom_template == template

    # Another clinician acting for the same client id sees none of it.
    other = await read(context_stub, harness, "clin-2", "client-7", max_notes=3)
    assert not other.has_client
    assert other.client == ClientProfile()
    assert not other.has_custom_template
    assert other.preferences == default_preferences()


async def test_only_allowed_services_with_service_tokens_are_answered(
    harness, context_stub
) -> None:
    request = GetClientContextRequest(clinician_id="clin-1", client_id="client-7")
    ok = await context_stub.GetClientContext(
        request, metadata=as_service(harness, "prompts")
    )
    assert ok.preferences == default_preferences()

    refusals = {
        "clinician token": (harness.as_clinician("clin-1"), "UNAUTHENTICATED"),
        "no token": ((), "UNAUTHENTICATED"),
        "expired": (as_service(harness, ttl_seconds=-60), "UNAUTHENTICATED"),
        "unknown service": (as_service(harness, "exporter"), "PERMISSION_DENIED"),
    }
    for case, (metadata, code) in refusals.items():
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await context_stub.GetClientContext(request, metadata=metadata)
        assert err.value.code().name == code, case

    bad = [
        GetClientContextRequest(client_id="client-7"),
        GetClientContextRequest(clinician_id="clin-1"),
        GetClientContextRequest(clinician_id="clin-1", client_id="c", max_notes=-1),
        GetClientContextRequest(clinician_id="clin-1", client_id="c", max_notes=21),
    ]
    for request in bad:
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await context_stub.GetClientContext(request, metadata=as_service(harness))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_notes_context_client_reads_from_the_running_store(harness, app) -> None:
    signed = await note(harness, "clin-1", "client-7", 3, session_id="s-old")
    await note(harness, "clin-1", "client-7", 4, session_id="s-now")
    settings = harness.settings.model_copy(
        update={"notes_store_address": f"127.0.0.1:{app.grpc_port}"}
    )

    client = NotesContextClient(settings, "drafter")
    try:
        context = await client.get_client_context(
            "clin-1", "client-7", max_notes=3, exclude_session_id="s-now"
        )
        assert [n.note_id for n in context.notes] == [signed]
        # The token is reused while it is fresh.
        again = await client.get_client_context("clin-1", "client-7", max_notes=1)
        assert len(again.notes) == 1
    finally:
        await client.close()

    stranger = NotesContextClient(settings, "exporter")
    try:
        with pytest.raises(ContextUnavailable) as err:
            await stranger.get_client_context("clin-1", "client-7")
        assert err.value.code == grpc.StatusCode.PERMISSION_DENIED
        assert str(err.value) == "notes context unavailable: PERMISSION_DENIED"
    finally:
        await stranger.close()


async def test_notes_context_client_retries_an_unreachable_store(settings) -> None:
    # Nothing listens on this port.
    address = f"127.0.0.1:{unused_port()}"
    client = NotesContextClient(
        settings.model_copy(update={"notes_store_address": address}),
        "drafter",
        timeout_seconds=2.0,
        retries=2,
        backoff_seconds=0.3,
    )
    started = time.monotonic()
    try:
        with pytest.raises(ContextUnavailable) as err:
            await client.get_client_context("clin-1", "client-7")
    finally:
        await client.close()
    elapsed = time.monotonic() - started
    assert err.value.code == grpc.StatusCode.UNAVAILABLE
    assert str(err.value) == "notes context unavailable: UNAVAILABLE"
    # Three attempts with 0.3 s and 0.6 s between them.
    assert 0.9 <= elapsed < 6.0
