"""Latency of the NotesStore gRPC calls the editor makes most, against the real servers.

Starts its own stack (Kafka, MongoDB wire server, S3) through ``tools/devstack`` unless
NOTEWELL_STACK_DIR names a running one, runs a notes store in this process, writes one
client's notes over gRPC and prints p50/p95 of GetNote, ListNotes (one client with
``--notes`` notes) and UpdateNote, one call at a time.

    python services/notes-store/bench/bench_grpc.py [--notes 500] [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))

import grpc  # noqa: E402

from devstack import Stack  # noqa: E402
from notewell.notes.v1.note_pb2 import NoteSection  # noqa: E402
from notewell.notes.v1.notes_store_pb2 import (  # noqa: E402
    CreateNoteRequest,
    GetNoteRequest,
    ListNotesRequest,
    UpdateNoteRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub  # noqa: E402
from notewell.notes_store.app import NotesStoreApp  # noqa: E402
from notewell.notes_store.settings import Settings  # noqa: E402
from notewell.platform import auth  # noqa: E402

# About the length of a real progress note.
SECTION_TEXT = "Client reported steadier sleep and fewer intrusive thoughts. " * 12


def sections() -> list[NoteSection]:
    return [
        NoteSection(key=key, title=key.capitalize(), text=SECTION_TEXT)
        for key in ("subjective", "objective", "assessment", "plan")
    ]


async def timed(calls: int, call: Callable[[int], Awaitable[object]]) -> list[float]:
    """Milliseconds per call."""
    latencies = []
    for i in range(calls):
        started = time.perf_counter()
        await call(i)
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def report(name: str, latencies: list[float]) -> str:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return (
        f"{name:<28} n={len(latencies):<4} p50={cuts[49]:7.1f} ms  p95={cuts[94]:7.1f} ms"
    )


async def bench(env: dict[str, str], notes: int, calls: int) -> list[str]:
    settings = Settings(**env)
    app = NotesStoreApp(settings)
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            stub = NotesStoreStub(channel)
            me = auth.bearer(auth.mint_token(settings, "clin-bench", ttl_seconds=3600))
            client_id = "client-bench"

            note_ids = []
            for _ in range(notes):
                note = await stub.CreateNote(
                    CreateNoteRequest(client_id=client_id, title="Session"), metadata=me
                )
                await stub.UpdateNote(
                    UpdateNoteRequest(
                        note_id=note.note_id,
                        base_version=1,
                        title="Session",
                        sections=sections(),
                    ),
                    metadata=me,
                )
                note_ids.append(note.note_id)

            get = await timed(
                calls,
                lambda i: stub.GetNote(
                    GetNoteRequest(note_id=note_ids[i % notes]), metadata=me
                ),
            )
            listed = await timed(
                max(calls // 10, 20),
                lambda i: stub.ListNotes(
                    ListNotesRequest(client_id=client_id), metadata=me
                ),
            )
            versions = dict.fromkeys(note_ids, 2)

            async def update(i: int) -> None:
                note_id = note_ids[i % notes]
                done = await stub.UpdateNote(
                    UpdateNoteRequest(
                        note_id=note_id,
                        base_version=versions[note_id],
                        title="Session",
                        sections=sections(),
                    ),
                    metadata=me,
                )
                versions[note_id] = done.version

            updated = await timed(calls, update)
    finally:
        await app.stop()
    return [
        report("GetNote", get),
        report(f"ListNotes ({notes} notes)", listed),
        report("UpdateNote", updated),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="notes-bench-") as scratch:
        reuse = os.environ.get("NOTEWELL_STACK_DIR")
        own = Path(scratch) / "stack"
        stack = Stack(reuse, stop_at_exit=False) if reuse else Stack(own)
        try:
            stack_env = stack.env if reuse else stack.up(llm=False)
            env = {
                **stack_env,
                "MONGODB_DATABASE": "bench_" + uuid.uuid4().hex[:8],
                "KAFKA_TOPIC_PREFIX": "bench" + uuid.uuid4().hex[:8] + ".",
                "KAFKA_GROUP_ID": "notes-store-bench-" + uuid.uuid4().hex[:8],
                "LOCAL_MASTER_KEY_FILE": str(Path(scratch) / "master.key"),
                "AUTH_HS256_SECRET": "bench-secret-" + uuid.uuid4().hex,
                "GRPC_PORT": "0",
                "LOG_LEVEL": "WARNING",
            }
            lines = asyncio.run(bench(env, args.notes, args.calls))
        finally:
            if not reuse:
                stack.down(purge=True)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
