"""The clinician's own note templates, read from the notes store with the caller's own
bearer token, so the store decides what the caller may see."""

from __future__ import annotations

from typing import Any

import grpc

from notewell.notes.v1.note_pb2 import NoteTemplate
from notewell.notes.v1.notes_store_pb2 import ListTemplatesRequest
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.platform.logs import get_logger
from notewell.platform.settings import PlatformSettings

log = get_logger(__name__)


class TemplatesUnavailable(Exception):
    """The notes store did not list the templates; carries the status name only."""


class OwnTemplates:
    def __init__(self, settings: PlatformSettings, timeout_seconds: float = 5.0) -> None:
        self._settings = settings
        self._timeout = timeout_seconds
        self._channel: grpc.aio.Channel | None = None
        self._stub: NotesStoreStub | None = None

    async def of_caller(
        self, context: grpc.aio.ServicerContext[Any, Any]
    ) -> list[NoteTemplate]:
        """The caller's own templates (built-in ones left out)."""
        metadata = dict(context.invocation_metadata() or ())
        authorization = metadata.get("authorization", "")
        try:
            answer = await self._stub_now().ListTemplates(
                ListTemplatesRequest(),
                metadata=(("authorization", str(authorization)),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as err:
            log.warning("templates_unavailable", extra={"code": err.code().name})
            raise TemplatesUnavailable(err.code().name) from None
        return [t for t in answer.templates if not t.built_in]

    async def close(self) -> None:
        if self._channel is not None:
            await self._channel.close()
            self._channel, self._stub = None, None

    def _stub_now(self) -> NotesStoreStub:
        if self._stub is None:
            self._channel = grpc.aio.insecure_channel(self._settings.notes_store_address)
            self._stub = NotesStoreStub(self._channel)
        return self._stub
