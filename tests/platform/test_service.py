"""notewell.platform.service: the shutdown stack, background tasks, serving an app
until a signal, run_service as a real process, and connect against the real MongoDB
and Kafka servers."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from aiokafka.errors import KafkaError
from pymongo.errors import InvalidOperation

from notewell.platform.kafka import ensure_topics
from notewell.platform.service import ShutdownStack, connect, serve, stop_task
from notewell.platform.settings import PlatformSettings

pytestmark = pytest.mark.asyncio

ROOT = Path(__file__).resolve().parents[2]


class Part:
    """A started part that records its stop in ``stopped`` and may fail it."""

    def __init__(self, name: str, stopped: list[str], fails: bool = False) -> None:
        self.name = name
        self._stopped = stopped
        self._fails = fails

    async def stop(self) -> None:
        await asyncio.sleep(0)
        self._stopped.append(self.name)
        if self._fails:
            raise RuntimeError(f"{self.name} did not stop")


async def test_parts_stop_in_reverse_order_once() -> None:
    stopped: list[str] = []
    stack = ShutdownStack()
    for name in ("mongo", "publisher", "broker"):
        stack.push(name, Part(name, stopped).stop)
    # A plain function is called too.
    stack.push("grpc", lambda: stopped.append("grpc"))

    await stack.aclose()
    assert stopped == ["grpc", "broker", "publisher", "mongo"]
    await stack.aclose()
    assert stopped == ["grpc", "broker", "publisher", "mongo"]


async def test_a_failed_stop_does_not_keep_the_others_running(caplog) -> None:
    caplog.set_level(logging.ERROR)
    stopped: list[str] = []
    stack = ShutdownStack()
    stack.push("mongo", Part("mongo", stopped).stop)
    stack.push("publisher", Part("publisher", stopped, fails=True).stop)
    stack.push("relay", Part("relay", stopped).stop)
    stack.push("broker", Part("broker", stopped, fails=True).stop)

    with pytest.raises(RuntimeError, match="broker did not stop"):
        await stack.aclose()
    assert stopped == ["broker", "relay", "publisher", "mongo"]
    failures = [r for r in caplog.records if r.getMessage() == "part_stop_failed"]
    assert [(r.part, r.error_type) for r in failures] == [  # type: ignore[attr-defined]
        ("broker", "RuntimeError"),
        ("publisher", "RuntimeError"),
    ]
    # Nothing is left to stop, and nothing fails again.
    await stack.aclose()
    assert len(stopped) == 4


async def test_the_stack_can_be_filled_again_after_closing() -> None:
    stopped: list[str] = []
    stack = ShutdownStack()
    stack.push("first", Part("first", stopped).stop)
    await stack.aclose()
    stack.push("second", Part("second", stopped).stop)
    await stack.aclose()
    assert stopped == ["first", "second"]


async def test_a_task_asked_to_stop_finishes_its_round() -> None:
    finishing = asyncio.Event()
    rounds: list[str] = []

    async def relay() -> None:
        await finishing.wait()
        rounds.append("last round")

    task = asyncio.create_task(relay())
    stack = ShutdownStack()
    stack.push_task("relay", task, finishing.set)
    await stack.aclose()
    assert task.done() and not task.cancelled()
    assert rounds == ["last round"]


async def test_a_task_without_a_way_to_stop_is_cancelled() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    await stop_task(task)
    assert task.cancelled()
    # Stopping a finished task again changes nothing.
    await stop_task(task)


async def test_a_task_that_failed_raises_its_error_when_stopped() -> None:
    async def broken() -> None:
        raise ValueError("relay broke")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    with pytest.raises(ValueError, match="relay broke"):
        await stop_task(task, lambda: None)


async def test_cancelling_the_stopper_leaves_the_task_running() -> None:
    release = asyncio.Event()
    task = asyncio.create_task(release.wait())
    stopper = asyncio.create_task(stop_task(task, lambda: None))
    await asyncio.sleep(0.05)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert not task.done()
    release.set()
    await task


class App:
    def __init__(self, fail_start: bool = False) -> None:
        self.calls: list[str] = []
        self._fail_start = fail_start

    async def start(self) -> None:
        self.calls.append("start")
        if self._fail_start:
            raise ConnectionError("kafka is down")

    async def stop(self) -> None:
        self.calls.append("stop")


async def test_serve_stops_the_app_once_told_to() -> None:
    app = App()
    stopping = asyncio.Event()
    serving = asyncio.create_task(serve(app, stopping))
    await asyncio.sleep(0.05)
    assert app.calls == ["start"]
    stopping.set()
    await asyncio.wait_for(serving, 5)
    assert app.calls == ["start", "stop"]


async def test_serve_stops_an_app_whose_start_failed() -> None:
    app = App(fail_start=True)
    with pytest.raises(ConnectionError):
        await serve(app, asyncio.Event())
    assert app.calls == ["start", "stop"]


async def test_serve_stops_on_sigterm_and_restores_the_handler() -> None:
    app = App()
    loop = asyncio.get_running_loop()
    loop.call_later(0.1, os.kill, os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(serve(app), 5)
    assert app.calls == ["start", "stop"]
    assert loop.remove_signal_handler(signal.SIGTERM) is False


SERVICE = textwrap.dedent(
    """
    import sys

    from pydantic import Field

    from notewell.platform.logs import get_logger
    from notewell.platform.service import run_service
    from notewell.platform.settings import PlatformSettings

    log = get_logger("probe")


    class Settings(PlatformSettings):
        service_name: str = Field("probe", alias="SERVICE_NAME")


    class ProbeApp:
        def __init__(self, settings: Settings) -> None:
            self._name = settings.service_name

        async def start(self) -> None:
            log.info("probe_started", extra={"service": self._name})
            print("started", flush=True)

        async def stop(self) -> None:
            log.info("probe_stopped")
            print("stopped", flush=True)


    run_service(Settings, ProbeApp)
    """
)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
async def test_run_service_runs_a_process_until_a_signal(signum) -> None:
    env = {**os.environ, "SERVICE_NAME": "probe-7", "OTEL_TRACES_EXPORTER": "none"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SERVICE,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        line = await asyncio.wait_for(process.stdout.readline(), 30)
        assert line == b"started\n"
        process.send_signal(signum)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
    assert out == b"stopped\n"
    # Logging was configured: JSON lines on stderr, the settings' service name in them.
    logged = err.decode()
    assert '"event": "probe_started"' in logged
    assert '"service": "probe-7"' in logged
    assert '"event": "probe_stopped"' in logged


async def test_connect_opens_mongo_and_kafka_and_the_stack_closes_them(
    service_env: dict[str, str],
) -> None:
    settings = PlatformSettings(**service_env, SERVICE_NAME="connect-test")  # type: ignore[arg-type]
    topic = settings.topic("connect.check")
    await ensure_topics(settings, [topic])
    parts = ShutdownStack()
    mongo, publisher = await connect(settings, parts)
    try:
        collection = mongo[settings.mongodb_database]["connect_check"]
        await collection.insert_one({"_id": "c1", "n": 1})
        assert await collection.find_one({"_id": "c1"}) == {"_id": "c1", "n": 1}
        await publisher.publish_raw(topic, "k1", b"v1", {"event-id": "e1"})
    finally:
        await parts.aclose()
    with pytest.raises(InvalidOperation):
        await mongo[settings.mongodb_database]["connect_check"].find_one({})
    with pytest.raises(KafkaError):
        await publisher.publish_raw(topic, "k2", b"v2", {"event-id": "e2"})
