"""`make bench-pipeline`: time from session.ended to draft.created with the local model.

Runs the project's sample session and three AnnoMI sessions of different lengths through
every service, one at a time, and prints, for each, the words, the seconds to
transcript.ready and to draft.created, and whether the model or the extractive fallback
wrote the draft; then the drafter's peak resident memory.

    python -m notewell_tools.bench_pipeline [--annomi 125 104 100] [--no-sample]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from pathlib import Path

from devstack import Stack
from notewell.platform import events
from notewell_tools.demo import Progress, follow, publish
from notewell_tools.pipeline import ROOT, NotesClient, Pipeline, session_ended
from notewell_tools.sessions import SessionInput, load_annomi, load_sample

# A short AnnoMI session, a typical one of about 1,000 words and the longest (about
# 100, 1,000 and 7,300 words).
DEFAULT_ANNOMI = [125, 20, 121]


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def measure(pipeline: Pipeline, session: SessionInput) -> dict[str, object]:
    progress = Progress()
    session_id = f"bench-{uuid.uuid4().hex[:8]}"
    clinician_id, client_id = "clinician-bench", f"client-{session.name}"
    uri = await asyncio.to_thread(
        pipeline.upload_transcript, session_id, session.transcript
    )
    event = session_ended(
        session_id, clinician_id, client_id, uri, session.duration_seconds
    )
    start = progress.elapsed()
    await publish(pipeline, event)
    seen = await follow(pipeline, session_id, progress, wait_seconds=1800)
    client = NotesClient(pipeline, clinician_id)
    try:
        draft = await asyncio.to_thread(client.wait_for_draft, client_id, session_id, 60)
    finally:
        client.close()
    return {
        "session": session.name,
        "words": session.word_count,
        "transcript_ready_s": round(seen[events.TRANSCRIPT_READY] - start, 1),
        "draft_created_s": round(seen[events.DRAFT_CREATED] - start, 1),
        "written_by": "fallback" if draft.extractive_fallback else "model",
    }


async def run(sessions: list[SessionInput]) -> int:
    stack = Stack(ROOT / ".data" / "bench-stack")
    pipeline: Pipeline | None = None
    try:
        env = await asyncio.to_thread(stack.up, True)
        pipeline = Pipeline(
            env, ROOT / ".data" / "bench", topic_prefix=f"b{uuid.uuid4().hex[:6]}."
        )
        await asyncio.to_thread(pipeline.start)
        rows = []
        for session in sessions:
            row = await measure(pipeline, session)
            rows.append(row)
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        drafter_pid = pipeline.procs["drafter"].pid
        print(f"drafter peak RSS: {peak_rss_mib(drafter_pid):.0f} MiB")
        print()
        print(
            "| session | words | transcript.ready (s) | draft.created (s) | written by |"
        )
        print("| --- | ---: | ---: | ---: | --- |")
        for row in rows:
            print(
                f"| {row['session']} | {row['words']} | {row['transcript_ready_s']} | "
                f"{row['draft_created_s']} | {row['written_by']} |"
            )
        return 0
    finally:
        if pipeline is not None:
            await asyncio.to_thread(pipeline.stop)
        await asyncio.to_thread(stack.down)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--annomi", type=int, nargs="*", default=DEFAULT_ANNOMI)
    parser.add_argument("--no-sample", action="store_true")
    args = parser.parse_args(argv)
    sessions = [] if args.no_sample else [load_sample()]
    sessions += [load_annomi(i) for i in args.annomi]
    return asyncio.run(run(sessions))


if __name__ == "__main__":
    sys.exit(main())
