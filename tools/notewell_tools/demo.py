"""`make demo`: one session through the whole pipeline on this machine.

Starts the real servers and every service, uploads a transcript as a partner would,
publishes session.ended, follows the session through the topics, prints the draft note
and where its PDF is, and stops everything.

    python -m notewell_tools.demo               # the project's own sample session
    python -m notewell_tools.demo --annomi 12   # a real AnnoMI session instead
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer

from devstack import Stack
from notewell.notes.v1 import note_pb2
from notewell.platform import events
from notewell.platform.kafka import EventPublisher
from notewell_tools.pipeline import ROOT, NotesClient, Pipeline, session_ended
from notewell_tools.sessions import SessionInput, load_annomi, load_sample

STAGES = [events.TRANSCRIPT_READY, events.DRAFT_CREATED]


class Progress:
    def __init__(self) -> None:
        self._start = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self._start

    def say(self, text: str) -> None:
        print(f"[{self.elapsed():6.1f}s] {text}", flush=True)


async def follow(
    pipeline: Pipeline, session_id: str, progress: Progress, wait_seconds: float
) -> dict[str, float]:
    """Waits until the session's draft.created is seen, reporting each stage."""
    settings = pipeline.settings
    topics = [settings.topic(t) for t in STAGES]
    dead = [events.dead_letter_topic(settings.topic(events.SESSION_ENDED))]
    consumer = AIOKafkaConsumer(
        *topics,
        *dead,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen: dict[str, float] = {}
    last_tick = progress.elapsed()
    try:
        deadline = time.monotonic() + wait_seconds
        while events.DRAFT_CREATED not in seen:
            if time.monotonic() > deadline:
                raise TimeoutError("the draft did not arrive in time")
            batch = await consumer.getmany(timeout_ms=1000)
            for records in batch.values():
                for record in records:
                    if (record.key or b"").decode() != session_id:
                        continue
                    if record.topic in dead:
                        raise RuntimeError("session.ended was dead-lettered; see logs")
                    stage = record.topic[len(settings.kafka_topic_prefix) :]
                    if stage not in seen:
                        seen[stage] = progress.elapsed()
                        progress.say(f"{stage} received")
            if progress.elapsed() - last_tick >= 15:
                last_tick = progress.elapsed()
                waiting = next(s for s in STAGES if s not in seen)
                progress.say(f"waiting for {waiting} …")
    finally:
        await consumer.stop()
    return seen


async def publish(pipeline: Pipeline, event: object) -> None:
    publisher = EventPublisher(pipeline.settings)
    await publisher.start()
    try:
        value, headers = events.encode_json(event)  # type: ignore[arg-type]
        topic = pipeline.settings.topic(events.SESSION_ENDED)
        await publisher.publish_raw(topic, event.session_id, value, headers)  # type: ignore[attr-defined]
    finally:
        await publisher.stop()


def print_note(note: note_pb2.Note) -> None:
    facts = note.session
    print()
    print("=" * 78)
    print(note.title)
    print(
        f"format {note.format} · status DRAFT · {facts.duration_minutes} min · "
        f"suggested CPT {facts.suggested_cpt_code or 'none (under 16 min)'}"
    )
    if note.extractive_fallback:
        print("(extractive draft: the model was unavailable)")
    print("-" * 78)
    for section in note.sections:
        print(f"\n{section.title.upper()}")
        print(section.text)
        ids = ", ".join(section.evidence.utterance_ids[:12])
        if ids:
            print(
                f"  evidence: {ids}{' …' if len(section.evidence.utterance_ids) > 12 else ''}"  # noqa: E501
            )
    print("=" * 78)
    print()


async def run(session: SessionInput, wait_seconds: float) -> int:
    progress = Progress()
    progress.say("starting Kafka, S3, MongoDB and the model server …")
    stack = Stack(ROOT / ".data" / "demo-stack")
    pipeline: Pipeline | None = None
    try:
        env = await asyncio.to_thread(stack.up, True)
        progress.say("servers ready; starting the five services …")
        pipeline = Pipeline(env, ROOT / ".data" / "demo")
        await asyncio.to_thread(pipeline.start)
        progress.say(
            "services healthy: transcriber, drafter, notes-store, exporter, prompts"
        )

        session_id = f"demo-{uuid.uuid4().hex[:8]}"
        clinician_id, client_id = "clinician-demo", f"client-{session.name}"
        uri = await asyncio.to_thread(
            pipeline.upload_transcript, session_id, session.transcript
        )
        event = session_ended(
            session_id, clinician_id, client_id, uri, session.duration_seconds
        )
        await publish(pipeline, event)
        progress.say(
            f"session.ended published for {session.name}: {session.word_count:,} words, "
            f"{session.duration_seconds / 60:.1f} min (session {session_id})"
        )
        published_at = progress.elapsed()
        seen = await follow(pipeline, session_id, progress, wait_seconds)
        progress.say(
            f"draft.created {seen[events.DRAFT_CREATED] - published_at:.1f}s "
            "after session.ended"
        )

        client = NotesClient(pipeline, clinician_id)
        try:
            draft = await asyncio.to_thread(
                client.wait_for_draft, client_id, session_id, 60
            )
            progress.say(f"draft {draft.note_id} is in notes-store, awaiting review")
            print_note(draft)
            export = await asyncio.to_thread(client.export, draft.note_id)
        finally:
            client.close()
        pdf_path = ROOT / ".data" / "demo" / f"{session_id}.pdf"
        pdf_path.write_bytes(await asyncio.to_thread(_download, export.url))
        pages = _page_count(pdf_path)
        progress.say(f"PDF stored in S3 as {export.object_key} ({pages} page(s))")
        print(
            f"    presigned URL (valid until {export.expires_at.ToDatetime():%H:%M:%S} "
            f"UTC): {export.url}"
        )
        print(f"    local copy: {pdf_path.relative_to(ROOT)}")
        return 0
    finally:
        progress.say("stopping services and servers …")
        if pipeline is not None:
            await asyncio.to_thread(pipeline.stop)
        await asyncio.to_thread(stack.down)
        progress.say("stopped")


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        data: bytes = response.read()
    return data


def _page_count(pdf: Path) -> str:
    try:
        info = subprocess.run(
            ["pdfinfo", str(pdf)], capture_output=True, text=True, check=True
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return "?"
    for line in info.splitlines():
        if line.startswith("Pages:"):
            return line.split()[-1]
    return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--annomi",
        type=int,
        metavar="ID",
        help="run AnnoMI session ID from ../shared/datasets/annomi",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=900,
        help="seconds to wait for the draft (default 900)",
    )
    args = parser.parse_args(argv)
    session = load_annomi(args.annomi) if args.annomi is not None else load_sample()
    return asyncio.run(run(session, args.timeout))


if __name__ == "__main__":
    sys.exit(main())
