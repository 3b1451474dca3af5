"""Service tokens and clinician tokens: each verifier accepts its own kind only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import grpc
import jwt
import pytest

from notewell.notes.v1.note_pb2 import ClinicianProfile
from notewell.notes.v1.notes_store_pb2 import ClientContext, GetClientContextRequest
from notewell.notes.v1.notes_store_pb2_grpc import (
    NotesContextServicer,
    NotesContextStub,
    add_NotesContextServicer_to_server,
)
from notewell.platform import auth
from notewell.platform.settings import PlatformSettings

GATEWAY_SECRET = "gateway-secret-for-tests-0123456789abcdef"
SERVICE_SECRET = "service-secret-for-tests-0123456789abcdef"


def settings(**overrides: str) -> PlatformSettings:
    env = {
        "AUTH_HS256_SECRET": GATEWAY_SECRET,
        "SERVICE_AUTH_SECRET": SERVICE_SECRET,
    }
    env.update(overrides)
    return PlatformSettings(**env)  # type: ignore[arg-type]


def test_settings_defaults_and_environment_names() -> None:
    defaults = PlatformSettings()
    assert defaults.service_auth_secret is None
    assert defaults.auth_service_audience == "notewell-internal"
    assert defaults.notes_store_address == "127.0.0.1:50051"

    named = settings(AUTH_SERVICE_AUDIENCE="internal-x", NOTES_STORE_ADDRESS="ns:1")
    assert named.auth_service_audience == "internal-x"
    assert named.notes_store_address == "ns:1"
    # A secret is not shown by the settings' repr.
    assert SERVICE_SECRET not in repr(named)


def test_service_token_claims() -> None:
    token = auth.mint_service_token(settings(), "drafter", ttl_seconds=120)
    claims = jwt.decode(
        token, SERVICE_SECRET, algorithms=["HS256"], audience="notewell-internal"
    )
    assert claims["sub"] == "service:drafter"
    assert claims["iss"] == "notewell-services"
    assert claims["aud"] == "notewell-internal"
    assert claims["exp"] - claims["iat"] == 120


def test_service_verifier_accepts_a_service_token() -> None:
    verifier = auth.ServiceTokenVerifier(settings(), {"drafter"})
    assert verifier.verify(auth.mint_service_token(settings(), "drafter")) == "drafter"


def test_a_clinician_token_never_passes_the_service_verifier() -> None:
    verifier = auth.ServiceTokenVerifier(settings(), {"drafter"})
    with pytest.raises(auth.Unauthenticated):
        verifier.verify(auth.mint_token(settings(), "drafter"))
    # Even signed with the service secret and aimed at the internal audience, a
    # gateway token (its issuer, a clinician subject) is refused.
    same_secret = settings(AUTH_HS256_SECRET=SERVICE_SECRET)
    forged = auth.mint_token(same_secret, "drafter", audience="notewell-internal")
    with pytest.raises(auth.Unauthenticated):
        verifier.verify(forged)


def test_a_service_token_never_passes_the_clinician_verifier() -> None:
    clinician_verifier = auth.TokenVerifier(settings())
    with pytest.raises(auth.Unauthenticated):
        clinician_verifier.verify(auth.mint_service_token(settings(), "drafter"))
    # Nor when both secrets are the same and the audiences were configured alike.
    alike = settings(SERVICE_AUTH_SECRET=GATEWAY_SECRET, AUTH_SERVICE_AUDIENCE="notewell")
    with pytest.raises(auth.Unauthenticated):
        auth.TokenVerifier(alike).verify(auth.mint_service_token(alike, "drafter"))


def test_expired_forged_and_foreign_audience_service_tokens_are_refused() -> None:
    verifier = auth.ServiceTokenVerifier(settings(), {"drafter"})
    expired = auth.mint_service_token(settings(), "drafter", ttl_seconds=-60)
    forged = auth.mint_service_token(
        settings(SERVICE_AUTH_SECRET="another-service-secret-0123456789abcdef"), "drafter"
    )
    foreign = auth.mint_service_token(settings(AUTH_SERVICE_AUDIENCE="x"), "drafter")
    for token in (expired, forged, foreign):
        with pytest.raises(auth.Unauthenticated):
            verifier.verify(token)


def test_minting_and_verifying_need_the_secret() -> None:
    without = PlatformSettings(AUTH_HS256_SECRET=GATEWAY_SECRET)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="SERVICE_AUTH_SECRET"):
        auth.mint_service_token(without, "drafter")
    with pytest.raises(ValueError, match="SERVICE_AUTH_SECRET"):
        auth.ServiceTokenVerifier(without, {"drafter"})


class EchoCaller(NotesContextServicer):
    """Answers with the calling service's name in ``clinician.display_name``."""

    def __init__(self, verifier: auth.ServiceTokenVerifier) -> None:
        self._verifier = verifier

    async def GetClientContext(
        self, request: GetClientContextRequest, context: Any
    ) -> ClientContext:
        service = await self._verifier.service_of(context)
        return ClientContext(clinician=ClinicianProfile(display_name=service))


@pytest.fixture
async def stub() -> AsyncIterator[NotesContextStub]:
    server = grpc.aio.server()
    verifier = auth.ServiceTokenVerifier(settings(), {"drafter", "prompts"})
    add_NotesContextServicer_to_server(EchoCaller(verifier), server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield NotesContextStub(channel)
    finally:
        await server.stop(grace=None)


async def test_service_of_names_an_allowed_service(stub: NotesContextStub) -> None:
    token = auth.mint_service_token(settings(), "prompts")
    answer = await stub.GetClientContext(
        GetClientContextRequest(), metadata=auth.bearer(token)
    )
    assert answer.clinician.display_name == "prompts"


def _refused_metadata(case: str) -> tuple[tuple[str, str], ...]:
    """Metadata for one refused call. Tokens are minted when the test runs, never at
    collection, so they cannot expire while a long suite gets to them."""
    if case == "no token":
        return ()
    if case == "not bearer":
        return (("authorization", "Basic abc"),)
    if case == "clinician token":
        return auth.bearer(auth.mint_token(settings(), "clin-1"))
    return auth.bearer(auth.mint_service_token(settings(), "exporter"))


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("no token", grpc.StatusCode.UNAUTHENTICATED),
        ("not bearer", grpc.StatusCode.UNAUTHENTICATED),
        ("clinician token", grpc.StatusCode.UNAUTHENTICATED),
        ("service not allowed", grpc.StatusCode.PERMISSION_DENIED),
    ],
)
async def test_service_of_refuses(
    stub: NotesContextStub, case: str, code: grpc.StatusCode
) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.GetClientContext(
            GetClientContextRequest(), metadata=_refused_metadata(case)
        )
    assert err.value.code() == code
