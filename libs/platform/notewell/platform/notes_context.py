"""A client of the notes store's NotesContext service, for services that draft or
generate text about a client (the drafter, prompts).

Each call carries a service token for this service and names the clinician it acts
for; the answer holds only that clinician's data.
"""

from __future__ import annotations

import asyncio
import time

import grpc

from notewell.notes.v1.notes_store_pb2 import ClientContext, GetClientContextRequest
from notewell.notes.v1.notes_store_pb2_grpc import NotesContextStub
from notewell.platform.auth import bearer, mint_service_token
from notewell.platform.logs import get_logger
from notewell.platform.settings import PlatformSettings

log = get_logger(__name__)

# Tokens are minted for this long and replaced a minute before they expire.
TOKEN_TTL_SECONDS = 300
TOKEN_RENEW_MARGIN_SECONDS = 60


class ContextUnavailable(Exception):
    """The notes store did not answer with a client's context. The message names only
    the gRPC status, never anything about the clinician or client."""

    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(f"notes context unavailable: {code.name}")
        self.code = code


class NotesContextClient:
    """Reads a client's context from the notes store at NOTES_STORE_ADDRESS.

    A call that finds the store UNAVAILABLE is tried again ``retries`` times, waiting
    ``backoff_seconds`` and then twice as long each time; every attempt has its own
    ``timeout_seconds`` deadline.
    """

    def __init__(
        self,
        settings: PlatformSettings,
        service_name: str,
        timeout_seconds: float = 5.0,
        retries: int = 2,
        backoff_seconds: float = 0.2,
    ) -> None:
        self._settings = settings
        self._service_name = service_name
        self._timeout = timeout_seconds
        self._retries = retries
        self._backoff = backoff_seconds
        self._channel: grpc.aio.Channel | None = None
        self._stub: NotesContextStub | None = None
        self._token = ""
        self._token_renew_at = 0.0

    async def get_client_context(
        self,
        clinician_id: str,
        client_id: str,
        max_notes: int = 3,
        exclude_session_id: str = "",
    ) -> ClientContext:
        """The clinician's preferences, profiles, latest signed notes about the client
        and custom template; raises ContextUnavailable when the store refuses or
        cannot be reached."""
        request = GetClientContextRequest(
            clinician_id=clinician_id,
            client_id=client_id,
            max_notes=max_notes,
            exclude_session_id=exclude_session_id,
        )
        delay = self._backoff
        for attempt in range(self._retries + 1):
            try:
                context: ClientContext = await self._stub_now().GetClientContext(
                    request, metadata=bearer(self._token_now()), timeout=self._timeout
                )
                return context
            except grpc.aio.AioRpcError as err:
                code = err.code()
                retry = code == grpc.StatusCode.UNAVAILABLE and attempt < self._retries
                log.warning(
                    "notes_context_call_failed",
                    extra={"code": code.name, "attempt": attempt + 1, "retry": retry},
                )
                if not retry:
                    raise ContextUnavailable(code) from None
            await asyncio.sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel, self._stub = None, None

    def _stub_now(self) -> NotesContextStub:
        # Made on first use, inside the event loop the calls run on.
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self._settings.notes_store_address)
            self._stub = NotesContextStub(self._channel)
        return self._stub

    def _token_now(self) -> str:
        now = time.monotonic()
        if now >= self._token_renew_at:
            self._token = mint_service_token(
                self._settings, self._service_name, TOKEN_TTL_SECONDS
            )
            self._token_renew_at = now + TOKEN_TTL_SECONDS - TOKEN_RENEW_MARGIN_SECONDS
        return self._token
