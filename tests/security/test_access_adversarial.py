"""Tokens of the wrong kind, and ids of the wrong size, against a running notes store:
each kind of token opens only its own API."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import jwt
import pytest

from notewell.notes.v1.notes_store_pb2 import (
    GetClientContextRequest,
    GetNoteRequest,
    ListClientsRequest,
    ListNotesRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesContextStub, NotesStoreStub
from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings
from notewell.platform import auth


@pytest.fixture
def settings(service_env: dict[str, str]) -> Settings:
    return Settings(**service_env)


@pytest.fixture
async def channel(settings: Settings) -> AsyncIterator[grpc.aio.Channel]:
    store = NotesStoreApp(settings)
    await store.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{store.grpc_port}") as ch:
            yield ch
    finally:
        await store.stop()


async def code_of(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call  # type: ignore[misc]
    return err.value.code()


async def test_a_service_token_opens_no_clinician_api(
    settings: Settings, channel: grpc.aio.Channel
) -> None:
    notes = NotesStoreStub(channel)
    service = auth.bearer(auth.mint_service_token(settings, "prompts"))
    for call in (
        notes.ListClients(ListClientsRequest(), metadata=service),
        notes.ListNotes(ListNotesRequest(client_id="c-1"), metadata=service),
        notes.GetNote(GetNoteRequest(note_id="n-1"), metadata=service),
    ):
        assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED


async def test_gateway_signed_tokens_naming_a_service_open_nothing(
    settings: Settings, channel: grpc.aio.Channel
) -> None:
    """The gateway's key cannot make a service token, whatever the claims say."""
    assert settings.auth_hs256_secret
    claims = {
        "sub": auth.SERVICE_SUBJECT_PREFIX + "prompts",
        "iss": auth.SERVICE_ISSUER,
        "aud": settings.auth_service_audience,
        "exp": 4_102_444_800,
    }
    forged = auth.bearer(jwt.encode(claims, settings.auth_hs256_secret, "HS256"))
    as_clinician = auth.bearer(
        auth.mint_token(settings, auth.SERVICE_SUBJECT_PREFIX + "prompts")
    )
    context = NotesContextStub(channel)
    notes = NotesStoreStub(channel)
    request = GetClientContextRequest(clinician_id="clin-1", client_id="c-1")
    for metadata in (forged, as_clinician):
        call = context.GetClientContext(request, metadata=metadata)
        assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED
        call = notes.ListClients(ListClientsRequest(), metadata=metadata)
        assert await code_of(call) == grpc.StatusCode.UNAUTHENTICATED


async def test_empty_ids_and_oversized_context_ids_are_refused_plainly(
    settings: Settings, channel: grpc.aio.Channel
) -> None:
    notes = NotesStoreStub(channel)
    context = NotesContextStub(channel)
    clinician = auth.bearer(auth.mint_token(settings, "clin-1"))
    service = auth.bearer(auth.mint_service_token(settings, "drafter"))
    huge = "c" * 100_000
    for call in (
        notes.ListNotes(ListNotesRequest(client_id=""), metadata=clinician),
        context.GetClientContext(
            GetClientContextRequest(clinician_id="clin-1", client_id=huge),
            metadata=service,
        ),
        context.GetClientContext(
            GetClientContextRequest(clinician_id=" ", client_id="c-1"), metadata=service
        ),
    ):
        assert await code_of(call) == grpc.StatusCode.INVALID_ARGUMENT
