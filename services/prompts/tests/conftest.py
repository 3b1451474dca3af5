"""A notes store and the prompts service on the real servers, a scripted language
model, and a harness that plays the clinician's editor and the measurement and device
platforms."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import grpc
import pytest

from notewell.clinical.store import MEASUREMENTS, WEARABLE_DAYS
from notewell.events.v1.events_pb2 import MeasurementRecorded, WearableSummaryRecorded
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    Note,
    NotePreferences,
    NoteSection,
    NoteType,
)
from notewell.notes.v1.notes_store_pb2 import (
    CreateNoteRequest,
    SaveNoteRequest,
    UpdateClientProfileRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings as NotesSettings
from notewell.platform import auth, events
from notewell.platform.clients import mongo_client
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher
from notewell.prompts.app import PromptsApp
from notewell.prompts.settings import Settings
from notewell.prompts.v1.prompts_pb2 import (
    GetInsightsRequest,
    Insights,
    PromptResult,
    RunPromptRequest,
)
from notewell.prompts.v1.prompts_pb2_grpc import PromptsStub
from tests.support.scripted_llm import ScriptedLLM

DEADLINE_SECONDS = 30.0
CLINICIAN = "dr-ada"
OTHER_CLINICIAN = "dr-bo"

# The story of one client over three sessions: what the notes say, what they score.
SESSIONS = [
    (
        date(2026, 10, 1),
        {
            "subjective": "Client reported poor sleep and work stress after a new "
            'deadline. Client said "I lie awake until three" most nights.',
            "plan": "Start a sleep diary; weekly sessions.",
        },
    ),
    (
        date(2026, 10, 15),
        {
            "subjective": "Client reported sleep improving with the diary and less "
            "drinking at weekends. Work stress continues with a difficult manager.",
            "plan": "Continue the sleep diary; practise worry time.",
        },
    ),
    (
        date(2026, 11, 1),
        {
            "subjective": 'Client said "I finally slept through the night" twice '
            "this week and felt more hopeful.",
            "plan": "Review the sleep diary; plan for a work conversation.",
        },
    ),
]
# PHQ-9 20 -> 13 -> 9: a reliable improvement (6 or more) at the second point, none at
# the third; 11 lower than intake overall. GAD-7 12 -> 11.
SCORES = [
    ("PHQ-9", date(2026, 9, 20), 20),
    ("PHQ-9", date(2026, 10, 15), 13),
    ("PHQ-9", date(2026, 11, 1), 9),
    ("GAD-7", date(2026, 9, 20), 12),
    ("GAD-7", date(2026, 11, 1), 11),
]
# Sleep 6 h a night before the last 14 days, 7 h during them.
WEARABLE_DAYS_BACK = 30
RECENT_DAYS = 14
BASELINE_SLEEP = 360
RECENT_SLEEP = 420


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 15, 0, tzinfo=UTC)


async def eventually(attempt: Any, failure: str) -> Any:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        outcome = await attempt()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(failure)
        await asyncio.sleep(0.2)


class Harness:
    """Drives the prompts service as the editor does and fills a client's record
    through the notes store and the clinical topics."""

    def __init__(
        self,
        settings: Settings,
        prompts: PromptsStub,
        notes: NotesStoreStub,
        llm: ScriptedLLM,
    ) -> None:
        self.settings = settings
        self.prompts = prompts
        self.notes = notes
        self.llm = llm
        self.sealer = Sealer(master_key_from_settings(settings))
        self.publisher = EventPublisher(settings)
        self.mongo = mongo_client(settings)
        self.database = self.mongo[settings.mongodb_database]

    def as_clinician(self, clinician_id: str = CLINICIAN) -> tuple[tuple[str, str], ...]:
        return auth.bearer(auth.mint_token(self.settings, clinician_id))

    # ---------------------------------------------------------------- the record

    async def sign_note(
        self,
        client_id: str,
        day: date,
        sections: dict[str, str],
        note_type: NoteType.ValueType = NoteType.NOTE_TYPE_PROGRESS,
        clinician_id: str = CLINICIAN,
    ) -> Note:
        who = self.as_clinician(clinician_id)
        create = CreateNoteRequest(
            client_id=client_id, note_type=note_type, format="SOAP"
        )
        create.date_of_service.FromDatetime(at(day))
        note = await self.notes.CreateNote(create, metadata=who)
        note = await self.notes.UpdateNote(
            UpdateNoteRequest(
                note_id=note.note_id,
                base_version=note.version,
                title="Session",
                sections=[
                    NoteSection(key=k, title=k.capitalize(), text=t)
                    for k, t in sections.items()
                ],
            ),
            metadata=who,
        )
        saved: Note = await self.notes.SaveNote(
            SaveNoteRequest(note_id=note.note_id, base_version=note.version),
            metadata=who,
        )
        return saved

    async def set_client_profile(
        self, client_id: str, clinician_id: str = CLINICIAN, **fields: Any
    ) -> None:
        profile = ClientProfile(client_id=client_id, **fields)
        await self.notes.UpdateClientProfile(
            UpdateClientProfileRequest(profile=profile),
            metadata=self.as_clinician(clinician_id),
        )

    async def set_preferences(
        self, preferences: NotePreferences, clinician_id: str = CLINICIAN
    ) -> None:
        await self.notes.UpdatePreferences(
            UpdatePreferencesRequest(preferences=preferences),
            metadata=self.as_clinician(clinician_id),
        )

    async def record_score(
        self, client_id: str, code: str, day: date, score: int
    ) -> None:
        """Publishes measurement.recorded as the measurement platform does."""
        m = Measurement(
            measurement_id="m-" + uuid.uuid4().hex[:12],
            client_id=client_id,
            clinician_id=CLINICIAN,
            instrument=code,
            total_score=score,
            source="test platform",
        )
        m.administered_at.FromDatetime(at(day))
        event = MeasurementRecorded(
            event_id=events.new_event_id(),
            measurement_id=m.measurement_id,
            clinician_id=CLINICIAN,
            client_id=client_id,
            measurement=self.sealer.seal(m, context=m.measurement_id),
            occurred_at=events.now_timestamp(),
        )
        topic = self.settings.topic(events.MEASUREMENT_RECORDED)
        await self.publisher.publish(topic, m.measurement_id, event)

    async def record_sleep(self, client_id: str, day: date, minutes: int) -> None:
        """Publishes wearable.summary as the device platform does."""
        d = WearableDay(
            summary_id=f"w-{client_id}-{day.isoformat()}",
            client_id=client_id,
            clinician_id=CLINICIAN,
            date=day.isoformat(),
            sleep_minutes=minutes,
            source="test device",
        )
        event = WearableSummaryRecorded(
            event_id=events.new_event_id(),
            summary_id=d.summary_id,
            clinician_id=CLINICIAN,
            client_id=client_id,
            summary=self.sealer.seal(d, context=d.summary_id),
            occurred_at=events.now_timestamp(),
        )
        topic = self.settings.topic(events.WEARABLE_SUMMARY)
        await self.publisher.publish(topic, d.summary_id, event)

    async def wait_for_clinical_data(
        self, client_id: str, measurements: int, days: int
    ) -> None:
        async def attempt() -> bool:
            query = {"client_id": client_id}
            have_m = await self.database[MEASUREMENTS].count_documents(query)
            have_d = await self.database[WEARABLE_DAYS].count_documents(query)
            return have_m >= measurements and have_d >= days

        await eventually(attempt, "the scores and wearable days never arrived")

    async def full_client(self, with_scores: bool = True) -> str:
        """A client with three signed notes and, unless told otherwise, PHQ-9 and
        GAD-7 scores and a month of sleep data."""
        client_id = "c-" + uuid.uuid4().hex[:10]
        for day, sections in SESSIONS:
            await self.sign_note(client_id, day, sections)
        if not with_scores:
            return client_id
        for code, day, score in SCORES:
            await self.record_score(client_id, code, day, score)
        today = datetime.now(UTC).date()
        for back in range(WEARABLE_DAYS_BACK):
            day = today - timedelta(days=back)
            await self.record_sleep(
                client_id, day, RECENT_SLEEP if back < RECENT_DAYS else BASELINE_SLEEP
            )
        await self.wait_for_clinical_data(client_id, len(SCORES), WEARABLE_DAYS_BACK)
        return client_id

    # ---------------------------------------------------------------- the editor

    async def run(
        self,
        prompt_id: str,
        client_id: str,
        note: Note | None = None,
        section_key: str = "",
        cursor_offset: int = 0,
        clinician_id: str = CLINICIAN,
    ) -> tuple[list[str], PromptResult]:
        """The streamed text pieces and the result of one RunPrompt call."""
        request = RunPromptRequest(
            prompt_id=prompt_id,
            client_id=client_id,
            section_key=section_key,
            cursor_offset=cursor_offset,
        )
        if note is not None:
            request.note.CopyFrom(note)
        pieces: list[str] = []
        result: PromptResult | None = None
        call = self.prompts.RunPrompt(request, metadata=self.as_clinician(clinician_id))
        async for response in call:
            if response.HasField("result"):
                assert result is None, "the result comes once"
                result = response.result
            else:
                assert result is None, "no text after the result"
                pieces.append(response.text)
        assert result is not None, "the stream ended without a result"
        return pieces, result

    async def insights(
        self, client_id: str, clinician_id: str = CLINICIAN, recent_days: int = 0
    ) -> Insights:
        answer: Insights = await self.prompts.GetInsights(
            GetInsightsRequest(client_id=client_id, recent_days=recent_days),
            metadata=self.as_clinician(clinician_id),
        )
        return answer

    async def close(self) -> None:
        await self.publisher.stop()
        await self.mongo.close()


@pytest.fixture
def env(service_env: dict[str, str]) -> dict[str, str]:
    return {**service_env, "SERVICE_AUTH_SECRET": "service-secret-" + uuid.uuid4().hex}


@pytest.fixture
async def notes_store(env: dict[str, str]) -> AsyncIterator[NotesStoreApp]:
    store = NotesStoreApp(NotesSettings(**env))
    await store.start()
    try:
        yield store
    finally:
        await store.stop()


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as scripted:
        yield scripted


@pytest.fixture
def settings(
    env: dict[str, str], notes_store: NotesStoreApp, llm: ScriptedLLM
) -> Settings:
    return Settings(
        **{
            **env,
            # The service's own database, apart from the notes store's.
            "MONGODB_DATABASE": env["MONGODB_DATABASE"] + "_prompts",
            "NOTES_STORE_ADDRESS": f"127.0.0.1:{notes_store.grpc_port}",
            "OPENAI_BASE_URL": llm.base_url,
            "LLM_TIMEOUT_SECONDS": "10",
            "LLM_STALL_SECONDS": "5",
        }
    )


@pytest.fixture
async def harness(settings: Settings, llm: ScriptedLLM) -> AsyncIterator[Harness]:
    app = PromptsApp(settings)
    await app.start()
    notes_address = settings.notes_store_address
    try:
        async with (
            grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as prompts_channel,
            grpc.aio.insecure_channel(notes_address) as notes_channel,
        ):
            h = Harness(
                settings, PromptsStub(prompts_channel), NotesStoreStub(notes_channel), llm
            )
            await h.publisher.start()
            try:
                yield h
            finally:
                await h.close()
    finally:
        await app.stop()
