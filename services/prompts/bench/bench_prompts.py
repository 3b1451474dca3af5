"""Time to the first streamed piece and to the whole answer of RunPrompt, against the
real local model.

Starts its own stack (Kafka, MongoDB wire server, S3) and the llama.cpp server through
``tools/devstack`` unless NOTEWELL_STACK_DIR names a running one, runs a notes store and
the prompts service in this process, gives one client three signed notes, PHQ-9 and
GAD-7 scores and a month of sleep data, then runs each prompt ``--runs`` times, one
call at a time.

    python services/prompts/bench/bench_prompts.py [--runs 3] [--prompts a,b]
        [--openai-base-url URL]

``--openai-base-url`` measures another OpenAI-compatible endpoint instead of the local
model (which is then not started).
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))

import grpc  # noqa: E402
from devstack import Stack  # noqa: E402

from notewell.clinical.store import ClinicalData  # noqa: E402
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay  # noqa: E402
from notewell.notes.v1.note_pb2 import NoteSection  # noqa: E402
from notewell.notes.v1.notes_store_pb2 import (  # noqa: E402
    CreateNoteRequest,
    SaveNoteRequest,
    UpdateNoteRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub  # noqa: E402
from notewell.notes_store.app import NotesStoreApp  # noqa: E402
from notewell.notes_store.settings import Settings as NotesSettings  # noqa: E402
from notewell.platform import auth  # noqa: E402
from notewell.platform.clients import mongo_client  # noqa: E402
from notewell.platform.crypto import Sealer, master_key_from_settings  # noqa: E402
from notewell.prompts.app import PromptsApp  # noqa: E402
from notewell.prompts.settings import Settings  # noqa: E402
from notewell.prompts.v1.prompts_pb2 import RunPromptRequest  # noqa: E402
from notewell.prompts.v1.prompts_pb2_grpc import PromptsStub  # noqa: E402

CLINICIAN = "clin-bench"
CLIENT = "client-bench"
DEFAULT_PROMPTS = "summaries.scores,patterns.themes,ideas.homework,summaries.since_intake"
NOTES = [
    (date(2026, 10, 1), "Client reported poor sleep and work stress after a deadline."),
    (date(2026, 10, 15), "Client reported sleep improving with a diary; less drinking."),
    (date(2026, 11, 1), "Client slept through the night twice and felt more hopeful."),
]
SCORES = [("PHQ-9", 20, 60), ("PHQ-9", 13, 35), ("PHQ-9", 9, 10), ("GAD-7", 12, 60)]


async def fill_record(settings: Settings, notes: NotesStoreStub) -> None:
    me = auth.bearer(auth.mint_token(settings, CLINICIAN, ttl_seconds=3600))
    for day, text in NOTES:
        create = CreateNoteRequest(client_id=CLIENT, format="SOAP")
        create.date_of_service.FromDatetime(
            datetime(day.year, day.month, day.day, tzinfo=UTC)
        )
        note = await notes.CreateNote(create, metadata=me)
        note = await notes.UpdateNote(
            UpdateNoteRequest(
                note_id=note.note_id,
                base_version=note.version,
                title="Session",
                sections=[NoteSection(key="subjective", title="Subjective", text=text)],
            ),
            metadata=me,
        )
        await notes.SaveNote(
            SaveNoteRequest(note_id=note.note_id, base_version=note.version), metadata=me
        )

    # Written straight into the service's store, as its intake would.
    sealer = Sealer(master_key_from_settings(settings))
    mongo = mongo_client(settings)
    clinical = ClinicalData(mongo[settings.mongodb_database], sealer)
    today = datetime.now(UTC)
    for code, score, days_ago in SCORES:
        m = Measurement(
            measurement_id=uuid.uuid4().hex,
            client_id=CLIENT,
            clinician_id=CLINICIAN,
            instrument=code,
            total_score=score,
        )
        m.administered_at.FromDatetime(today - timedelta(days=days_ago))
        await clinical.add_measurement(m, sealer.seal(m, context=m.measurement_id))
    for back in range(30):
        d = WearableDay(
            summary_id=uuid.uuid4().hex,
            client_id=CLIENT,
            clinician_id=CLINICIAN,
            date=(today - timedelta(days=back)).date().isoformat(),
            sleep_minutes=420 if back < 14 else 360,
        )
        await clinical.add_wearable_day(d, sealer.seal(d, context=d.summary_id))
    await mongo.close()


async def run_once(
    stub: PromptsStub, me: object, prompt_id: str
) -> tuple[float, float, bool]:
    """Seconds to the first text piece and to the result, and whether the model was
    bypassed (fallback or no data)."""
    started = time.perf_counter()
    first = 0.0
    bypassed = False
    call = stub.RunPrompt(
        RunPromptRequest(prompt_id=prompt_id, client_id=CLIENT), metadata=me
    )
    async for response in call:
        if response.HasField("text") and not first:
            first = time.perf_counter() - started
        if response.HasField("result"):
            bypassed = response.result.extractive_fallback or response.result.no_data
    return first, time.perf_counter() - started, bypassed


def report(
    prompt_id: str, firsts: list[float], totals: list[float], bypassed: int
) -> str:
    line = (
        f"{prompt_id:<24} n={len(totals)}"
        f"  first piece p50={statistics.median(firsts):6.2f} s max={max(firsts):6.2f} s"
        f"  whole p50={statistics.median(totals):6.2f} s max={max(totals):6.2f} s"
    )
    return line + (f"  (model bypassed {bypassed}x)" if bypassed else "")


async def bench(env: dict[str, str], prompts: list[str], runs: int) -> list[str]:
    store = NotesStoreApp(NotesSettings(**env))
    await store.start()
    settings = Settings(
        **{
            **env,
            "MONGODB_DATABASE": env["MONGODB_DATABASE"] + "_prompts",
            "NOTES_STORE_ADDRESS": f"127.0.0.1:{store.grpc_port}",
            # The shared machine may be busy; the bench measures, it does not give up.
            "LLM_TIMEOUT_SECONDS": "300",
            "LLM_STALL_SECONDS": "120",
        }
    )
    app = PromptsApp(settings)
    await app.start()
    lines = []
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{store.grpc_port}") as notes_channel,
            grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel,
        ):
            await fill_record(settings, NotesStoreStub(notes_channel))
            stub = PromptsStub(channel)
            me = auth.bearer(auth.mint_token(settings, CLINICIAN, ttl_seconds=3600))
            # One unmeasured call loads the prompt cache and the model's pages.
            await run_once(stub, me, prompts[0])
            for prompt_id in prompts:
                firsts, totals, bypassed = [], [], 0
                for _ in range(runs):
                    first, total, skipped = await run_once(stub, me, prompt_id)
                    firsts.append(first)
                    totals.append(total)
                    bypassed += skipped
                lines.append(report(prompt_id, firsts, totals, bypassed))
    finally:
        await app.stop()
        await store.stop()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompts", default=DEFAULT_PROMPTS)
    parser.add_argument("--openai-base-url", default="")
    args = parser.parse_args()
    prompts = [p.strip() for p in args.prompts.split(",") if p.strip()]

    with tempfile.TemporaryDirectory(prefix="prompts-bench-") as scratch:
        reuse = os.environ.get("NOTEWELL_STACK_DIR")
        own = Path(scratch) / "stack"
        stack = Stack(reuse, stop_at_exit=False) if reuse else Stack(own)
        try:
            stack_env = stack.env if reuse else stack.up(llm=False)
            if args.openai_base_url:
                stack_env = {**stack_env, "OPENAI_BASE_URL": args.openai_base_url}
            else:
                stack_env = {**stack_env, **stack.up_llm()}
            env = {
                **stack_env,
                "MONGODB_DATABASE": "bench_" + uuid.uuid4().hex[:8],
                "KAFKA_TOPIC_PREFIX": "bench" + uuid.uuid4().hex[:8] + ".",
                "KAFKA_GROUP_ID": "notes-store-bench-" + uuid.uuid4().hex[:8],
                "PROMPTS_GROUP_ID": "prompts-bench-" + uuid.uuid4().hex[:8],
                "LOCAL_MASTER_KEY_FILE": str(Path(scratch) / "master.key"),
                "AUTH_HS256_SECRET": "bench-secret-" + uuid.uuid4().hex,
                "SERVICE_AUTH_SECRET": "bench-service-" + uuid.uuid4().hex,
                "GRPC_PORT": "0",
                "LOG_LEVEL": "WARNING",
            }
            lines = asyncio.run(bench(env, prompts, args.runs))
        finally:
            if not reuse:
                stack.down(purge=True)
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
