"""The whole pipeline, every service as its own process, against the real servers.

A partner uploads a transcript and publishes session.ended; the clinician's draft is
read back over gRPC from notes-store, saved, and its PDF read back from S3. The model's
words come from a scripted stand-in here, except in the test marked ``llm``, which uses
the real local model.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from pymongo import MongoClient

from notewell.notes.v1 import note_pb2, notes_store_pb2
from notewell.platform import events
from notewell.platform.kafka import EventPublisher
from notewell_tools.pipeline import NotesClient, Pipeline, session_ended
from tests.support.scripted_llm import ScriptedLLM

pytestmark = pytest.mark.e2e

CLINICIAN = "clinician-e2e"
SOAP_TITLES = ["Subjective", "Objective", "Assessment", "Plan"]
# What the drafter writes for a clinician who prefers DAP: the code-written session
# facts first and the safety section last, around the format's own headings.
DAP_TITLES = ["Session", "Data", "Assessment", "Plan", "Safety"]

TRANSCRIPT = {
    "turns": [
        {
            "speaker": "clinician",
            "start": 2.0,
            "end": 6.5,
            "text": "How has the week been since we last met?",
        },
        {
            "speaker": "client",
            "start": 7.0,
            "end": 15.0,
            "text": "Better than last week. I went for three walks along the canal.",
        },
        {
            "speaker": "clinician",
            "start": 15.5,
            "end": 19.0,
            "text": "What did you notice about your mood on those days?",
        },
        {
            "speaker": "client",
            "start": 19.5,
            "end": 29.0,
            "text": "It lifted a bit, maybe from a three to a five out of ten.",
        },
        {
            "speaker": "clinician",
            "start": 29.5,
            "end": 36.0,
            "text": "Let's keep the walks going and add one call to a friend this week.",
        },
        {
            "speaker": "client",
            "start": 36.5,
            "end": 40.0,
            "text": "Okay, I can call my cousin on Sunday.",
        },
    ]
}


def fill_schema(schema: dict[str, Any], name: str = "text") -> Any:
    """A valid instance of a JSON schema, with plain sentences for strings."""
    kind = schema.get("type")
    if "anyOf" in schema:
        return fill_schema(schema["anyOf"][0], name)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "object":
        props = schema.get("properties", {})
        return {key: fill_schema(sub, key) for key, sub in props.items()}
    if kind == "array":
        items = schema.get("items", {})
        if items.get("type") == "string" and "id" in name:
            return ["u1"]
        count = max(1, schema.get("minItems", 1))
        return [fill_schema(items, name) for _ in range(count)]
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if "id" in name:
        return "u1"
    return f"The client described walking three times this week ({name})."


def scripted_reply(
    messages: list[dict[str, Any]], response_format: dict[str, Any] | None
) -> str:
    import json

    schema = (response_format or {}).get("schema") or {"type": "object", "properties": {}}
    return json.dumps(fill_schema(schema))


@pytest.fixture
def scripted_pipeline(stack_env: dict[str, str], tmp_path: Path) -> Iterator[Pipeline]:
    with ScriptedLLM() as llm:
        llm.respond = scripted_reply
        tag = uuid.uuid4().hex[:8]
        pipeline = Pipeline(
            stack_env,
            tmp_path / "pipeline",
            topic_prefix=f"e{tag}.",
            database_prefix=f"e{tag}_",
            extra_env={
                "OPENAI_BASE_URL": llm.base_url,
                "OPENAI_API_KEY": "scripted",
                "LLM_MODEL": "scripted-model",
            },
        )
        pipeline.start()
        try:
            yield pipeline
        finally:
            pipeline.stop()


def publish(pipeline: Pipeline, *session_events: Any) -> None:
    async def send() -> None:
        publisher = EventPublisher(pipeline.settings)
        await publisher.start()
        try:
            topic = pipeline.settings.topic(events.SESSION_ENDED)
            for event in session_events:
                await publisher.publish(topic, event.session_id, event)
        finally:
            await publisher.stop()

    asyncio.run(send())


def keys_on(pipeline: Pipeline, stage: str, wait_seconds: float) -> list[str]:
    """Keys of every message on a stage's topic, read for ``wait_seconds``."""

    async def read() -> list[str]:
        consumer = AIOKafkaConsumer(
            pipeline.settings.topic(stage),
            bootstrap_servers=pipeline.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        keys: list[str] = []
        try:
            deadline = time.monotonic() + wait_seconds
            while time.monotonic() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    keys.extend((r.key or b"").decode() for r in records)
        finally:
            await consumer.stop()
        return keys

    return asyncio.run(read())


def pdf_text(data: bytes, tmp_path: Path) -> str:
    path = tmp_path / "note.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_session_becomes_a_draft_a_signed_note_and_a_pdf(
    scripted_pipeline: Pipeline, tmp_path: Path
) -> None:
    pipeline = scripted_pipeline
    session_id, client_id = f"s-{uuid.uuid4().hex[:8]}", f"c-{uuid.uuid4().hex[:6]}"
    uri = pipeline.upload_transcript(session_id, TRANSCRIPT)

    client = NotesClient(pipeline, CLINICIAN)
    try:
        # The clinician's preferences and profiles, which the drafter reads from the
        # notes store over NotesContext and the PDF prints.
        client.notes.UpdatePreferences(
            notes_store_pb2.UpdatePreferencesRequest(
                preferences=note_pb2.NotePreferences(
                    format=note_pb2.NOTE_FORMAT_DAP,
                    clinician_reference="this writer",
                    client_reference="the client",
                    detail_level=note_pb2.DETAIL_LEVEL_BRIEF,
                    direct_quotes=note_pb2.DIRECT_QUOTES_NONE,
                )
            ),
            metadata=client.metadata,
            timeout=10,
        )
        client.notes.UpdateClinicianProfile(
            notes_store_pb2.UpdateClinicianProfileRequest(
                profile=note_pb2.ClinicianProfile(
                    display_name="Dana Reyes", credentials="LCSW", practice_name="Harbour"
                )
            ),
            metadata=client.metadata,
            timeout=10,
        )
        client.notes.UpdateClientProfile(
            notes_store_pb2.UpdateClientProfileRequest(
                profile=note_pb2.ClientProfile(
                    client_id=client_id,
                    full_name="Zoë Łukasiewicz",
                    client_identifier="MRN-7",
                )
            ),
            metadata=client.metadata,
            timeout=10,
        )
        publish(pipeline, session_ended(session_id, CLINICIAN, client_id, uri, 40 * 60))

        draft = client.wait_for_draft(client_id, session_id, timeout=120)
        assert draft.status == note_pb2.NOTE_STATUS_DRAFT
        assert draft.format == "DAP"
        assert [s.title for s in draft.sections] == DAP_TITLES
        assert all(s.text for s in draft.sections)
        assert "Suggested CPT code: 90834" in draft.sections[0].text
        assert draft.session.duration_minutes == 40
        assert draft.session.suggested_cpt_code == "90834"

        signed = client.save_note(draft)
        assert signed.status == note_pb2.NOTE_STATUS_SIGNED
        assert signed.signature.signed_by == CLINICIAN
        assert signed.signature.signer_name == "Dana Reyes"
        assert signed.header.client_name == "Zoë Łukasiewicz"

        # note.saved makes the exporter store the signed version in S3 by itself.
        key = f"notes/{CLINICIAN}/{draft.note_id}/v{signed.version}.pdf"
        s3 = pipeline.s3()
        deadline = time.monotonic() + 60
        body = None
        while body is None and time.monotonic() < deadline:
            try:
                body = s3.get_object(Bucket="notewell-exports", Key=key)["Body"].read()
            except s3.exceptions.NoSuchKey:
                time.sleep(0.5)
        assert body is not None, "the signed note's PDF never reached S3"
        text = pdf_text(body, tmp_path)
        for title in DAP_TITLES:
            assert title in text
        assert "DRAFT" not in text
        assert "Zoë Łukasiewicz" in text and "Dana Reyes, LCSW" in text
        assert "MRN-7" in text

        # On request, a short-lived presigned URL for the same note.
        export = client.export(draft.note_id)
        with urllib.request.urlopen(export.url, timeout=30) as response:
            fetched = response.read()
        assert fetched.startswith(b"%PDF")
        assert "Plan" in pdf_text(fetched, tmp_path)
    finally:
        client.close()


def test_duplicates_give_one_draft_and_no_consent_gives_none(
    scripted_pipeline: Pipeline,
) -> None:
    pipeline = scripted_pipeline
    client_id = f"c-{uuid.uuid4().hex[:6]}"
    declined_id, consented_id = f"s-{uuid.uuid4().hex[:8]}", f"s-{uuid.uuid4().hex[:8]}"
    declined_uri = pipeline.upload_transcript(declined_id, TRANSCRIPT)
    consented_uri = pipeline.upload_transcript(consented_id, TRANSCRIPT)
    declined = session_ended(
        declined_id, CLINICIAN, client_id, declined_uri, 30 * 60, consent=False
    )
    consented = session_ended(consented_id, CLINICIAN, client_id, consented_uri, 30 * 60)
    publish(pipeline, declined, consented, consented)

    client = NotesClient(pipeline, CLINICIAN)
    try:
        client.wait_for_draft(client_id, consented_id, timeout=120)
        # Give a second draft (or a draft of the declined session) time to show up.
        transcript_keys = keys_on(pipeline, events.TRANSCRIPT_READY, wait_seconds=8)
        draft_keys = keys_on(pipeline, events.DRAFT_CREATED, wait_seconds=2)
        notes = client.list_notes(client_id)
    finally:
        client.close()

    assert transcript_keys.count(consented_id) == 1
    assert draft_keys.count(consented_id) == 1
    assert declined_id not in transcript_keys
    assert declined_id not in draft_keys
    assert [n.session_id for n in notes] == [consented_id]

    transcriber_db = MongoClient(pipeline.stack_env["MONGODB_URI"])[
        f"{pipeline.database_prefix}notewell_transcriber"
    ]
    declined_doc = transcriber_db["sessions"].find_one({"_id": declined_id})
    assert declined_doc is not None and declined_doc["status"] == "consent_declined"


@pytest.mark.llm
def test_real_model_drafts_a_soap_note_for_a_real_session(
    llm_env: dict[str, str], tmp_path: Path
) -> None:
    from notewell_tools.sessions import ANNOMI_CSV, load_annomi

    if not ANNOMI_CSV.exists():
        pytest.skip("../shared/datasets/annomi is not present")
    session = load_annomi(104)  # about 900 words, a typical AnnoMI session
    tag = uuid.uuid4().hex[:8]
    pipeline = Pipeline(
        llm_env,
        tmp_path / "pipeline",
        topic_prefix=f"r{tag}.",
        database_prefix=f"r{tag}_",
    )
    pipeline.start()
    client = NotesClient(pipeline, CLINICIAN)
    try:
        session_id, client_id = f"s-{tag}", f"c-{tag}"
        uri = pipeline.upload_transcript(session_id, session.transcript)
        started = time.monotonic()
        publish(
            pipeline,
            session_ended(
                session_id, CLINICIAN, client_id, uri, session.duration_seconds
            ),
        )
        draft = client.wait_for_draft(client_id, session_id, timeout=420)
        elapsed = time.monotonic() - started
    finally:
        client.close()
        pipeline.stop()

    print(f"real model: {session.word_count} words drafted in {elapsed:.1f}s")
    assert not draft.extractive_fallback, "the real model should have written this draft"
    assert [s.title for s in draft.sections] == ["Session", *SOAP_TITLES, "Safety"]
    assert all(len(s.text.split()) >= 3 for s in draft.sections)
    utterance_ids = {f"u{i}" for i in range(len(session.transcript["turns"]))}
    for section in draft.sections:
        assert set(section.evidence.utterance_ids) <= utterance_ids
