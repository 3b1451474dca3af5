"""Serves the prompts service's gRPC endpoint. Today it answers the standard health
check only; the prompt catalogue and generation are not built yet."""

from __future__ import annotations

import grpc

from notewell.platform.grpc_server import start_grpc_server
from notewell.platform.logs import get_logger
from notewell.prompts.settings import Settings

log = get_logger(__name__)


class PromptsApp:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._server: grpc.aio.Server | None = None
        self._port = 0

    @property
    def grpc_port(self) -> int:
        return self._port

    async def start(self) -> None:
        self._server, self._port = await start_grpc_server(self._settings.grpc_port, [])
        log.info("prompts_started", extra={"grpc_port": self._port})

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=5)
            self._server = None
