"""Bearer tokens: clinician identity signed by the API gateway, and service identity
that notewell services mint for one another's internal APIs.

The two kinds differ in issuer, audience and signing secret; a verifier of one kind
refuses every token of the other.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import grpc
import jwt

from notewell.platform.settings import PlatformSettings

SERVICE_ISSUER = "notewell-services"
SERVICE_SUBJECT_PREFIX = "service:"


class Unauthenticated(Exception):
    """No token, or one that is expired, forged or meant for someone else."""


class TokenVerifier:
    """Checks signature, issuer, audience and expiry; returns the clinician id ("sub")."""

    def __init__(self, settings: PlatformSettings) -> None:
        self._issuer = settings.auth_issuer
        self._audience = settings.auth_audience
        if settings.auth_public_key_file:
            self._key: str | bytes = Path(settings.auth_public_key_file).read_bytes()
            self._algorithms = ["RS256", "ES256"]
        elif settings.auth_hs256_secret:
            self._key = settings.auth_hs256_secret
            self._algorithms = ["HS256"]
        else:
            raise ValueError("set AUTH_PUBLIC_KEY_FILE or AUTH_HS256_SECRET")

    def verify(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=self._algorithms,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(type(exc).__name__) from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated("token has no subject")
        if subject.startswith(SERVICE_SUBJECT_PREFIX):
            raise Unauthenticated("a service is not a clinician")
        return subject

    async def clinician_of(self, context: grpc.aio.ServicerContext) -> str:
        """The calling clinician's id, or aborts the call with UNAUTHENTICATED."""
        token = await _bearer_token(context)
        try:
            return self.verify(token)
        except Unauthenticated:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")
        raise AssertionError("unreachable")


class ServiceTokenVerifier:
    """Checks service tokens (as ``mint_service_token`` makes them) and which services
    may call: ``service_of`` returns the caller's service name."""

    def __init__(
        self, settings: PlatformSettings, allowed_services: Iterable[str]
    ) -> None:
        if settings.service_auth_secret is None:
            raise ValueError("service tokens need SERVICE_AUTH_SECRET")
        self._secret = settings.service_auth_secret.get_secret_value()
        if not self._secret:
            raise ValueError("service tokens need SERVICE_AUTH_SECRET")
        self._audience = settings.auth_service_audience
        self._allowed = frozenset(allowed_services)

    def verify(self, token: str) -> str:
        """The service name a valid token was minted for (any service, allowed or not)."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=["HS256"],
                audience=self._audience,
                issuer=SERVICE_ISSUER,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated(type(exc).__name__) from None
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject.startswith(SERVICE_SUBJECT_PREFIX):
            raise Unauthenticated("token does not name a service")
        service = subject[len(SERVICE_SUBJECT_PREFIX) :]
        if not service:
            raise Unauthenticated("token does not name a service")
        return service

    async def service_of(self, context: grpc.aio.ServicerContext) -> str:
        """The calling service's name. Aborts the call with UNAUTHENTICATED for a
        missing or invalid token and PERMISSION_DENIED for a service not allowed."""
        token = await _bearer_token(context)
        try:
            service = self.verify(token)
        except Unauthenticated:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid service token")
            raise AssertionError("unreachable") from None
        if service not in self._allowed:
            await context.abort(
                grpc.StatusCode.PERMISSION_DENIED, "service may not call this method"
            )
        return service


async def _bearer_token(context: grpc.aio.ServicerContext) -> str:
    metadata = dict(context.invocation_metadata() or ())
    header = metadata.get("authorization", "")
    if not isinstance(header, str) or not header.lower().startswith("bearer "):
        await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bearer token required")
        raise AssertionError("unreachable")
    return header[7:].strip()


def mint_token(
    settings: PlatformSettings,
    clinician_id: str,
    ttl_seconds: int = 900,
    audience: str | None = None,
) -> str:
    """An HS256 token as the gateway would issue it (one-machine default and tests)."""
    if not settings.auth_hs256_secret:
        raise ValueError("minting needs AUTH_HS256_SECRET")
    now = int(time.time())
    claims = {
        "sub": clinician_id,
        "iss": settings.auth_issuer,
        "aud": audience or settings.auth_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, settings.auth_hs256_secret, algorithm="HS256")


def mint_service_token(
    settings: PlatformSettings, service_name: str, ttl_seconds: int = 300
) -> str:
    """A token naming ``service_name`` ("service:<name>") for another notewell
    service's internal API, signed with SERVICE_AUTH_SECRET."""
    if settings.service_auth_secret is None:
        raise ValueError("minting service tokens needs SERVICE_AUTH_SECRET")
    secret = settings.service_auth_secret.get_secret_value()
    if not secret:
        raise ValueError("minting service tokens needs SERVICE_AUTH_SECRET")
    if not service_name:
        raise ValueError("a service token needs a service name")
    now = int(time.time())
    claims = {
        "sub": SERVICE_SUBJECT_PREFIX + service_name,
        "iss": SERVICE_ISSUER,
        "aud": settings.auth_service_audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """gRPC call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)
