"""A notes store killed after signing a note but before publishing it publishes the
note.saved exactly once after it restarts; one killed before copying a change's audit
entry into the trail copies it after it restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from notewell.events.v1.events_pb2 import NoteSaved
from notewell.notes.v1.notes_store_pb2 import (
    CreateNoteRequest,
    ListAuditEventsRequest,
    SaveNoteRequest,
    UpdateNoteRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.notes_store.settings import Settings

pytestmark = pytest.mark.asyncio


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StoreProcess:
    """``python -m notewell.notes_store`` as its own process."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self._env = env
        self._log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, **overrides: str) -> None:
        env = {**os.environ, **self._env, **overrides}
        with self._log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "notewell.notes_store"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def process_env(service_env: dict[str, str]) -> dict[str, str]:
    return {
        **service_env,
        "GRPC_PORT": str(free_port()),
        "KAFKA_GROUP_ID": "notes-store-" + uuid.uuid4().hex[:8],
    }


@pytest.fixture
def store(process_env: dict[str, str], tmp_path: Path) -> Iterator[StoreProcess]:
    process = StoreProcess(process_env, tmp_path / "notes-store.log")
    try:
        yield process
    finally:
        process.stop()


async def wait_ready(channel: grpc.aio.Channel) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            await channel.channel_ready()
            return
        except grpc.aio.AioRpcError:
            assert time.monotonic() < deadline, "notes-store never started"


async def test_killed_between_signing_and_publishing(
    process_env: dict[str, str], store: StoreProcess, harness_class
) -> None:
    settings = Settings(**process_env)
    # The first run signs but never reaches publishing.
    store.start(OUTBOX_RELAY_START_DELAY_SECONDS="600")
    address = f"127.0.0.1:{process_env['GRPC_PORT']}"
    async with grpc.aio.insecure_channel(address) as channel:
        await wait_ready(channel)
        harness = harness_class(settings, NotesStoreStub(channel))
        me = harness.as_clinician("clin-1")
        try:
            note = await harness.notes.CreateNote(
                CreateNoteRequest(client_id="client-7", session_id="s-crash"),
                metadata=me,
            )
            signed = await harness.notes.SaveNote(
                SaveNoteRequest(note_id=note.note_id, base_version=1), metadata=me
            )
            doc = await harness.collection.find_one({"_id": note.note_id})
            assert doc is not None and doc["outbox_pending"] is True
            assert await harness.read_topic(harness.saved_topic) == []

            store.kill()
            store.start()
            await wait_ready(channel)
            await harness.wait_until_relayed(note.note_id)

            records = await harness.read_topic(harness.saved_topic)
        finally:
            await harness.close()

    events = [NoteSaved.FromString(r.value) for r in records]
    assert [(e.note_id, e.version) for e in events] == [(note.note_id, 2)]
    assert signed.version == 2
    assert records[0].key == b"s-crash"


async def test_killed_before_copying_audit_entries(
    process_env: dict[str, str], store: StoreProcess, harness_class
) -> None:
    """A change's audit entry is written with the change: a store killed before its
    audit relay ran still has the entry after restart."""
    settings = Settings(**process_env)
    store.start(AUDIT_RELAY_START_DELAY_SECONDS="600")
    address = f"127.0.0.1:{process_env['GRPC_PORT']}"
    async with grpc.aio.insecure_channel(address) as channel:
        await wait_ready(channel)
        harness = harness_class(settings, NotesStoreStub(channel))
        me = harness.as_clinician("clin-1")
        audit = harness.database["audit"]
        try:
            note = await harness.notes.CreateNote(
                CreateNoteRequest(client_id="client-7", session_id="s-audit"),
                metadata=me,
            )
            await harness.notes.UpdateNote(
                UpdateNoteRequest(note_id=note.note_id, base_version=1, title="T"),
                metadata=me,
            )
            doc = await harness.collection.find_one({"_id": note.note_id})
            assert doc is not None and len(doc["audit_pending"]) == 2
            assert await audit.count_documents({"note_id": note.note_id}) == 0
            # The trail is complete at once, from the entries queued in the note.
            before = await harness.notes.ListAuditEvents(
                ListAuditEventsRequest(note_id=note.note_id), metadata=me
            )
            expected = [("created", 1), ("changed", 2)]
            assert [(e.action, e.version) for e in before.events] == expected

            store.kill()
            store.start()
            await wait_ready(channel)

            async def copied() -> list[dict[str, object]] | None:
                found = [d async for d in audit.find({"note_id": note.note_id})]
                return found if len(found) == 2 else None

            entries = await harness.eventually(copied, "entries never copied")

            async def drained() -> bool | None:
                doc = await harness.collection.find_one({"_id": note.note_id})
                assert doc is not None
                return True if not doc.get("audit_pending") else None

            await harness.eventually(drained, "queued entries never removed")
            after = await harness.notes.ListAuditEvents(
                ListAuditEventsRequest(note_id=note.note_id), metadata=me
            )
        finally:
            await harness.close()

    assert sorted((str(d["action"]), d["version"]) for d in entries) == sorted(expected)
    assert [(e.action, e.version) for e in after.events] == expected
    assert [e.event_id for e in after.events] == [e.event_id for e in before.events]
    assert {e.method for e in after.events} == {
        "NotesStore/CreateNote",
        "NotesStore/UpdateNote",
    }
