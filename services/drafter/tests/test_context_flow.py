"""transcript.ready in, draft.created out, with the clinician's context: preferences,
profiles and earlier notes served over NotesContext, and scores and wearable days
arriving on their own topics first. Without the notes store the draft goes on with
the defaults."""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections.abc import Iterator
from concurrent import futures
from datetime import date, timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.drafter.context import NO_CONTEXT
from notewell.drafter.formats import SOAP
from notewell.drafter.inputs import InputGatherer
from notewell.drafter.settings import Settings
from notewell.drafter.voice import DEFAULT_VOICE
from notewell.events.v1.events_pb2 import MeasurementRecorded, WearableSummaryRecorded
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.notes.v1 import notes_store_pb2_grpc
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    DetailLevel,
    DirectQuotes,
    Note,
    NoteFormat,
    NotePreferences,
    NoteSection,
)
from notewell.notes.v1.notes_store_pb2 import ClientContext, GetClientContextRequest
from notewell.platform import events
from notewell.platform.clients import mongo_client
from notewell.platform.notes_context import NotesContextClient

from .conftest import session_facts
from .test_formats_and_voice import answer_every_heading

pytestmark = pytest.mark.asyncio


class ScriptedNotesContext(notes_store_pb2_grpc.NotesContextServicer):
    """Answers GetClientContext with ``context`` and records each call."""

    def __init__(self, context: ClientContext) -> None:
        self.context = context
        self.calls: list[tuple[GetClientContextRequest, str]] = []
        self._lock = threading.Lock()

    def GetClientContext(self, request, context):
        token = dict(context.invocation_metadata()).get("authorization", "")
        with self._lock:
            self.calls.append((request, token))
        return self.context


def _stamp(day: date, hour: int = 10) -> Timestamp:
    stamp = Timestamp()
    stamp.FromJsonString(f"{day.isoformat()}T{hour:02d}:00:00Z")
    return stamp


EARLIER = Note(
    note_id="n-earlier",
    date_of_service=_stamp(date(2025, 2, 25)),
    sections=[
        NoteSection(key="data", title="Data", text="Jamie described panic at the office.")
    ],
)


@pytest.fixture
def notes_context() -> Iterator[ScriptedNotesContext]:
    servicer = ScriptedNotesContext(
        ClientContext(
            preferences=NotePreferences(
                format=NoteFormat.NOTE_FORMAT_DAP,
                clinician_reference="first person",
                client_reference="first name",
                detail_level=DetailLevel.DETAIL_LEVEL_BRIEF,
                direct_quotes=DirectQuotes.DIRECT_QUOTES_NONE,
            ),
            clinician=ClinicianProfile(display_name="Dana Reyes", credentials="LCSW"),
            client=ClientProfile(
                client_id="client-42", full_name="Jamie Rivera", pronouns="she/her"
            ),
            has_client=True,
            notes=[EARLIER],
        )
    )
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    notes_store_pb2_grpc.add_NotesContextServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    servicer.address = f"127.0.0.1:{port}"
    try:
        yield servicer
    finally:
        server.stop(grace=None)


@pytest.fixture
def settings(service_env, llm, notes_context) -> Settings:
    env = dict(service_env)
    env.update(
        OPENAI_BASE_URL=llm.base_url,
        LLM_TIMEOUT_SECONDS="10",
        LLM_BACKOFF_SECONDS="0.05",
        NOTES_STORE_ADDRESS=notes_context.address,
        DRAFTER_GROUP_ID=f"drafter-{uuid.uuid4().hex[:8]}",
    )
    return Settings(**env)


async def _stored(settings: Settings, collection: str) -> int:
    client = mongo_client(settings)
    try:
        db = client[settings.mongodb_database]
        return await db[collection].count_documents({"client_id": "client-42"})
    finally:
        await client.close()


async def _send_clinical_data(harness) -> None:
    sealer = harness.sealer
    for mid, total, day in (
        ("m1", 18, date(2025, 1, 7)),
        ("m2", 11, date(2025, 3, 3)),
        # Administered after the session: not known when it was drafted.
        ("m3", 4, date(2025, 3, 20)),
    ):
        measurement = Measurement(
            measurement_id=mid,
            client_id="client-42",
            clinician_id="clin-7",
            instrument="PHQ-9",
            total_score=total,
            administered_at=_stamp(day),
        )
        await harness.bus.publish(
            events.MEASUREMENT_RECORDED,
            mid,
            MeasurementRecorded(
                event_id=events.new_event_id(),
                measurement_id=mid,
                clinician_id="clin-7",
                client_id="client-42",
                measurement=sealer.seal(measurement, context=mid),
                occurred_at=events.now_timestamp(),
            ),
        )
    # Ten nights of 7 h before the fortnight up to the session, then 6 h a night.
    session_day = date(2025, 3, 4)
    for back in range(24):
        day = session_day - timedelta(days=back)
        sid = f"w-{day.isoformat()}"
        wearable = WearableDay(
            summary_id=sid,
            client_id="client-42",
            clinician_id="clin-7",
            date=day.isoformat(),
            sleep_minutes=360 if back < 14 else 420,
        )
        await harness.bus.publish(
            events.WEARABLE_SUMMARY,
            sid,
            WearableSummaryRecorded(
                event_id=events.new_event_id(),
                summary_id=sid,
                clinician_id="clin-7",
                client_id="client-42",
                summary=sealer.seal(wearable, context=sid),
                occurred_at=events.now_timestamp(),
            ),
        )


async def test_the_draft_follows_the_clinicians_context_and_data(
    harness, notes_context
) -> None:
    await _send_clinical_data(harness)
    settings = harness.settings
    for _ in range(300):
        if (
            await _stored(settings, "measurements") == 3
            and await _stored(settings, "wearable_days") == 24
        ):
            break
        await asyncio.sleep(0.2)
    assert await _stored(settings, "measurements") == 3
    assert await _stored(settings, "wearable_days") == 24

    harness.llm.respond = answer_every_heading(
        "Jamie said “I was sure everyone could tell”."
    )
    transcript = harness.transcript()
    sid = transcript.session_id
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=60)
    note = harness.open_note(created)

    # Asked for this clinician's context about this client, without this session.
    [(request, token)] = notes_context.calls
    assert (request.clinician_id, request.client_id) == ("clin-7", "client-42")
    assert (request.max_notes, request.exclude_session_id) == (3, sid)
    assert token.startswith("Bearer ")

    assert note.format == "DAP"
    assert [s.key for s in note.sections] == [
        "session",
        "data",
        "assessment",
        "plan",
        "safety",
    ]
    # Quotes "none": the verified quotation keeps its words, not its marks.
    assert note.sections[1].text == "Jamie said I was sure everyone could tell."

    [request_to_model] = harness.llm.requests
    prompt = request_to_model.prompt
    assert "write about them in the first person" in prompt
    assert 'Refer to the client (C) as "Jamie".' in prompt
    assert "The client's pronouns are she/her." in prompt
    # Brief (100 words) over DAP's three headings: two sentences, one to three.
    assert (
        "a brief note. In each section the session covered, write 2 sentences (1 to 3)"
        in prompt
    )
    assert (
        "[note:n-earlier] Note of 2025-02-25. Data: Jamie described panic at the office."
    ) in prompt
    assert "[measure:PHQ-9] PHQ-9 on 2025-03-03: 11 of 27 (moderate)" in prompt
    assert "[wearable:sleep_minutes] Sleep averaged 6 h 0 min a night" in prompt

    [phq9] = note.measures
    assert (phq9.latest_score, phq9.change_since_baseline, phq9.count) == (11, -7, 2)
    assert phq9.reliable_change == "improved"
    [sleep] = note.wearables
    assert (sleep.metric, sleep.recent_days, sleep.baseline_days) == (
        "sleep_minutes",
        14,
        10,
    )
    assert (sleep.recent_mean, sleep.baseline_mean, sleep.direction) == (
        360.0,
        420.0,
        "down",
    )


async def test_without_the_notes_store_the_draft_uses_the_defaults(
    harness, notes_context, caplog
) -> None:
    caplog.set_level(logging.WARNING, logger="notewell")
    # The store refuses: the draft goes on without the context.
    notes_context.context = None
    harness.llm.respond = answer_every_heading()
    transcript = harness.transcript()
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=60)
    note = harness.open_note(created)

    assert note.format == "SOAP"
    assert [s.key for s in note.sections][1:-1] == [
        "subjective",
        "objective",
        "assessment",
        "plan",
    ]
    assert not note.extractive_fallback
    prompt = harness.llm.requests[0].prompt
    assert 'Refer to the therapist (T) as "the therapist".' in prompt
    assert "a standard length note." in prompt
    assert "[note:" not in prompt
    [warning] = [
        r for r in caplog.records if r.getMessage() == "client_context_unavailable"
    ]
    assert warning.session_id == transcript.session_id
    assert warning.error_type == "ContextUnavailable"


async def test_an_unreachable_notes_store_leaves_the_defaults(service_env) -> None:
    settings = Settings(**{**service_env, "NOTES_STORE_ADDRESS": "127.0.0.1:1"})
    client = NotesContextClient(settings, "drafter", timeout_seconds=2)
    try:
        inputs = await InputGatherer(client, None).gather(
            "sess-1", "clin-7", "client-42", session_facts()
        )
    finally:
        await client.close()
    assert inputs.note_format == SOAP
    assert inputs.voice == DEFAULT_VOICE
    assert inputs.context == NO_CONTEXT
