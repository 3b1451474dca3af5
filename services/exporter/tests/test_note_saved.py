"""note.saved on the real broker becomes one encrypted PDF in the real S3 bucket."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer

from notewell.events.v1.events_pb2 import DeadLetter, NoteSaved
from notewell.exporter.exports import COLLECTION
from notewell.notes.v1.note_pb2 import Note, NoteType
from notewell.platform import events
from notewell.platform.clients import mongo_client, s3_client
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher

pytestmark = pytest.mark.asyncio

DEADLINE_SECONDS = 60.0


@pytest.fixture
async def publisher(settings) -> AsyncIterator[EventPublisher]:
    publisher = EventPublisher(settings)
    await publisher.start()
    try:
        yield publisher
    finally:
        await publisher.stop()


@pytest.fixture
async def exports_collection(settings) -> AsyncIterator[Any]:
    client = mongo_client(settings)
    try:
        yield client[settings.mongodb_database][COLLECTION]
    finally:
        await client.close()


def note_saved(settings, note: Note, seal_context: str | None = None) -> NoteSaved:
    sealer = Sealer(master_key_from_settings(settings))
    context = note.session_id if seal_context is None else seal_context
    return NoteSaved(
        event_id=events.new_event_id(),
        session_id=note.session_id,
        clinician_id=note.clinician_id,
        client_id=note.client_id,
        note_id=note.note_id,
        version=note.version,
        note=sealer.seal(note, context=context),
        occurred_at=events.now_timestamp(),
    )


async def _eventually(probe, what: str) -> Any:
    """Polls ``probe`` (async, returning a value or None) until it has an answer."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {DEADLINE_SECONDS:.0f}s waiting for {what}")


def _objects(s3, bucket: str, prefix: str = "") -> list[dict[str, Any]]:
    listing = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return list(listing.get("Contents", []))


async def test_signed_note_is_stored_once_as_pdf_even_when_redelivered(
    settings,
    exporter,
    publisher,
    exports_collection,
    make_note,
    pdf,
    phi,
    logged,
    caplog,
):
    note = make_note(
        note_id="note-a1",
        clinician_id="clin-7",
        client_id="client-42",
        session_id="sess-a1",
        version=4,
    )
    event = note_saved(settings, note)
    topic = settings.topic(events.NOTE_SAVED)
    key = "notes/clin-7/note-a1/v4.pdf"
    s3 = s3_client(settings)

    await publisher.publish(topic, note.session_id, event)

    def stored() -> dict[str, Any] | None:
        found = [o for o in _objects(s3, settings.export_bucket) if o["Key"] == key]
        return found[0] if found else None

    first = await _eventually(lambda: asyncio.to_thread(stored), "the PDF in S3")
    got = await asyncio.to_thread(s3.get_object, Bucket=settings.export_bucket, Key=key)
    assert got["ContentType"] == "application/pdf"
    assert got["ServerSideEncryption"] == "AES256"
    text = pdf.flat_text(got["Body"].read())
    for section in note.sections:
        assert section.title in text
        assert section.text in text
    assert "Electronically signed by Dr. Orsolya Vándorfi" in text
    assert "Page 1 of" in text
    record = await exports_collection.find_one({"_id": "note-a1:v4"})
    assert record is not None
    assert record["object_key"] == key
    assert record["status"] == "signed"
    assert record["bucket"] == settings.export_bucket

    # The broker may hand the same event over again: nothing is rendered or stored twice.
    await publisher.publish(topic, note.session_id, event)

    def handled() -> list[Any]:
        return [r for r in caplog.records if r.getMessage() == "note_saved_handled"]

    async def handled_twice() -> bool:
        return len(handled()) >= 2

    await _eventually(handled_twice, "the redelivered event to be handled")
    assert [r.rendered for r in handled()] == [True, False]
    objects = await asyncio.to_thread(_objects, s3, settings.export_bucket)
    assert [o["Key"] for o in objects] == [key]
    assert objects[0]["ETag"] == first["ETag"]
    assert await exports_collection.count_documents({}) == 1

    logs = logged()
    assert "note-a1" in logs
    for phrase in phi:
        assert phrase not in logs


async def test_notes_that_cannot_be_exported_are_dead_lettered(
    settings, exporter, publisher, make_note
):
    topic = settings.topic(events.NOTE_SAVED)
    moved = make_note(note_id="note-moved", session_id="sess-moved")
    # A box sealed for another session does not open under this event's session id.
    unopenable = note_saved(settings, moved, seal_context="sess-elsewhere")
    other = make_note(note_id="note-real", session_id="sess-swapped")
    swapped = note_saved(settings, other)
    swapped.note_id = "note-claimed"

    await publisher.publish(topic, "sess-moved", unopenable)
    await publisher.publish(topic, "sess-swapped", swapped)

    letters = await _read_dead_letters(settings, events.dead_letter_topic(topic), 2)
    reasons = {letter.session_id: letter.reason_code for letter in letters}
    assert reasons == {
        "sess-moved": "unopenable_note",
        "sess-swapped": "inconsistent_note",
    }
    assert all(letter.service == settings.service_name for letter in letters)
    s3 = s3_client(settings)
    assert await asyncio.to_thread(_objects, s3, settings.export_bucket) == []


async def _read_dead_letters(settings, topic: str, count: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    letters: list[DeadLetter] = []
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(letters) < count and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    letter = DeadLetter()
                    letter.ParseFromString(record.value)
                    letters.append(letter)
    finally:
        await consumer.stop()
    assert len(letters) == count, f"expected {count} dead letters, got {len(letters)}"
    return letters


async def test_psychotherapy_notes_are_left_out_of_the_exports_bucket(
    settings, exporter, publisher, exports_collection, make_note, logged
):
    topic = settings.topic(events.NOTE_SAVED)
    private = make_note(
        note_id="note-private",
        session_id="sess-p",
        note_type=NoteType.NOTE_TYPE_PSYCHOTHERAPY,
    )
    progress = make_note(note_id="note-progress", session_id="sess-p")
    s3 = s3_client(settings)

    # Same key, same partition: once the second is stored, the first was handled.
    await publisher.publish(topic, "sess-p", note_saved(settings, private))
    await publisher.publish(topic, "sess-p", note_saved(settings, progress))

    async def stored() -> list[dict[str, Any]]:
        return await asyncio.to_thread(_objects, s3, settings.export_bucket)

    objects = await _eventually(stored, "the progress note's PDF")
    assert [o["Key"] for o in objects] == ["notes/clin-1/note-progress/v3.pdf"]
    assert await exports_collection.count_documents({}) == 1
    assert "psychotherapy_note_not_exported" in logged()
