"""Clinician identity from bearer tokens signed by the API gateway."""

from __future__ import annotations

import time
from pathlib import Path

import grpc
import jwt

from notewell.platform.settings import PlatformSettings


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
        return subject

    async def clinician_of(self, context: grpc.aio.ServicerContext) -> str:
        """The calling clinician's id, or aborts the call with UNAUTHENTICATED."""
        metadata = dict(context.invocation_metadata() or ())
        header = metadata.get("authorization", "")
        if not isinstance(header, str) or not header.lower().startswith("bearer "):
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "bearer token required")
        try:
            return self.verify(header[7:].strip())
        except Unauthenticated:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")
        raise AssertionError("unreachable")


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


def bearer(token: str) -> tuple[tuple[str, str], ...]:
    """gRPC call metadata carrying ``token``."""
    return (("authorization", f"Bearer {token}"),)
