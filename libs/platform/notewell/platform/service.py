"""Running a service as a process, and stopping what its app started.

``run_service`` is all a service's ``__main__`` does: read its settings, set up logs and
traces, start the app, wait for SIGTERM or SIGINT, stop the app.

Apps push how to stop each part onto a ``ShutdownStack`` as they start it; their
``stop()`` closes the stack, which stops the parts in the reverse order, each one even
when an earlier one failed, and does nothing the second time.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import signal
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from pymongo import AsyncMongoClient

from notewell.platform.clients import mongo_client
from notewell.platform.kafka import EventPublisher
from notewell.platform.logs import configure_logging, get_logger
from notewell.platform.settings import PlatformSettings
from notewell.platform.telemetry import configure_tracing

log = get_logger(__name__)

S = TypeVar("S", bound=PlatformSettings)


class App(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def run_service(settings_type: Callable[[], S], app_type: Callable[[S], App]) -> None:
    """Runs ``app_type(settings_type())`` until SIGTERM or SIGINT, then stops it.

    Settings are read from the environment first, so a wrong variable ends the process
    before anything connects. The app is stopped also when its start fails part way.
    """
    settings = settings_type()
    configure_logging(settings.service_name, settings.log_level)
    configure_tracing(settings.service_name)
    asyncio.run(serve(app_type(settings)))


async def serve(app: App, stopping: asyncio.Event | None = None) -> None:
    """Starts ``app``, waits until ``stopping`` is set (by SIGTERM or SIGINT when not
    given), then stops it; the stop runs however the start or the wait ended."""
    signals: tuple[signal.Signals, ...] = ()
    loop = asyncio.get_running_loop()
    if stopping is None:
        stopping = asyncio.Event()
        signals = (signal.SIGTERM, signal.SIGINT)
        for signum in signals:
            loop.add_signal_handler(signum, stopping.set)
    try:
        await app.start()
        await stopping.wait()
    finally:
        try:
            await app.stop()
        finally:
            for signum in signals:
                loop.remove_signal_handler(signum)


async def stop_task(
    task: asyncio.Task[Any], ask_to_stop: Callable[[], object] | None = None
) -> None:
    """Ends a background task: ``ask_to_stop()`` tells it to finish (it is cancelled
    when none is given), then waits for it. The task's cancellation is not an error;
    any other exception it ended with is raised. Cancelling the caller leaves the task
    alone."""
    if ask_to_stop is None:
        task.cancel()
    else:
        ask_to_stop()
    await asyncio.wait([task])
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


class ShutdownStack:
    """How to stop each part an app started, run last pushed first."""

    def __init__(self) -> None:
        self._stops: list[tuple[str, Callable[[], object]]] = []

    def push(self, part: str, stop: Callable[[], object]) -> None:
        """``stop()`` is called when the stack is closed, and awaited when it returns
        an awaitable; ``part`` names it in logs."""
        self._stops.append((part, stop))

    def push_task(
        self,
        part: str,
        task: asyncio.Task[Any],
        ask_to_stop: Callable[[], object] | None = None,
    ) -> None:
        """Ends the background ``task`` when the stack is closed (see ``stop_task``)."""
        self.push(part, functools.partial(stop_task, task, ask_to_stop))

    async def aclose(self) -> None:
        """Stops every part pushed, the last first, and empties the stack. A part whose
        stop fails is logged (by its error's type) and the others are still stopped;
        the first failure is raised at the end."""
        first_error: Exception | None = None
        while self._stops:
            part, stop = self._stops.pop()
            try:
                result = stop()
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                log.error(
                    "part_stop_failed",
                    extra={"part": part, "error_type": type(exc).__name__},
                )
                if first_error is None:
                    first_error = exc
        if first_error is not None:
            raise first_error


async def connect(
    settings: PlatformSettings, parts: ShutdownStack
) -> tuple[AsyncMongoClient[dict[str, Any]], EventPublisher]:
    """The MongoDB client and a started event publisher, the two connections every
    service holds, pushed onto ``parts`` so the publisher stops before the client
    closes."""
    mongo = mongo_client(settings)
    parts.push("mongo", mongo.close)
    publisher = EventPublisher(settings)
    parts.push("publisher", publisher.stop)
    await publisher.start()
    return mongo, publisher
