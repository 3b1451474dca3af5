"""consent.withdrawn in the drafter: the session's draft is forgotten and nothing more
is drafted for it, against the real broker and database with a scripted model."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest
from pymongo.asynchronous.collection import AsyncCollection

from notewell.drafter.app import DrafterApp
from notewell.drafter.drafts import COLLECTION, WITHDRAWN_AT
from notewell.events.v1.events_pb2 import ConsentWithdrawn, DeadLetter
from notewell.platform import events
from notewell.platform.clients import mongo_client
from notewell.platform.kafka import EventPublisher
from notewell.platform.outbox import OutboxRelay

pytestmark = pytest.mark.asyncio

# Long enough for the consumer group's first join on a busy machine.
WITHIN = 60.0


@pytest.fixture
async def drafts(settings) -> AsyncIterator[AsyncCollection[dict[str, Any]]]:
    """The app's drafts collection, read directly."""
    client = mongo_client(settings)
    try:
        yield client[settings.mongodb_database][COLLECTION]
    finally:
        await client.close()


def withdrawal(session_id: str) -> ConsentWithdrawn:
    return ConsentWithdrawn(
        event_id=events.new_event_id(),
        session_id=session_id,
        clinician_id="clin-7",
        client_id="client-42",
        occurred_at=events.now_timestamp(),
    )


async def withdraw(harness, event: ConsentWithdrawn) -> None:
    await harness.bus.publish(events.CONSENT_WITHDRAWN, event.session_id, event)


async def document(drafts, session_id: str, has: str, what: str) -> dict[str, Any]:
    """The session's document once it has the field ``has``."""
    found: dict[str, Any] = {}

    async def look() -> bool:
        doc = await drafts.find_one({"_id": session_id})
        if doc is not None and has in doc:
            found.update(doc)
            return True
        return False

    deadline = asyncio.get_running_loop().time() + WITHIN
    while not await look():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not seen within {WITHIN} s")
        await asyncio.sleep(0.1)
    return found


def logged(caplog, message: str, session_id: str) -> list[logging.LogRecord]:
    return [
        r
        for r in caplog.records
        if r.getMessage() == message and getattr(r, "session_id", None) == session_id
    ]


async def stop_relay(app: DrafterApp) -> None:
    """Stops the app's outbox relay, so a stored draft's event stays queued."""
    relay, task = app._relay, app._relay_task
    assert relay is not None and task is not None
    relay.stop()
    await task


async def relay_once(harness, drafts) -> int:
    """One round of a fresh relay over the drafts collection: what the app's relay
    would publish on its next round."""
    publisher = EventPublisher(harness.settings)
    await publisher.start()
    try:
        return await OutboxRelay(drafts, publisher).relay_once()
    finally:
        await publisher.stop()


async def test_withdrawal_removes_a_stored_draft_before_its_event_is_sent(
    harness, app, drafts, caplog
) -> None:
    caplog.set_level(logging.INFO)
    await stop_relay(app)
    harness.llm.reply(harness.soap(), harness.soap())
    withdrawn, kept = harness.transcript(), harness.transcript()
    await harness.send(harness.event(withdrawn))
    await harness.send(harness.event(kept))
    for transcript in (withdrawn, kept):
        stored = await document(drafts, transcript.session_id, "note", "the stored draft")
        assert stored["outbox_pending"] is True

    await withdraw(harness, withdrawal(withdrawn.session_id))
    tombstone = await document(
        drafts, withdrawn.session_id, WITHDRAWN_AT, "the tombstone"
    )
    # Nothing of the draft is left: no note, no ids, no queued event.
    assert set(tombstone) == {"_id", WITHDRAWN_AT}
    assert isinstance(tombstone[WITHDRAWN_AT], datetime)
    [record] = logged(caplog, "consent_withdrawn", withdrawn.session_id)
    assert record.outcome == "draft_removed"

    # The relay, running again, sends the other session's draft and nothing else.
    assert await relay_once(harness, drafts) == 1
    [(key, created)] = await harness.drafts(1)
    assert key == created.session_id == kept.session_id
    assert await harness.bus.total(events.DRAFT_CREATED) == 1
    assert await relay_once(harness, drafts) == 0
    assert harness.llm.calls == 2


async def test_withdrawal_before_the_transcript_means_no_draft_and_no_model_call(
    harness, drafts, caplog
) -> None:
    caplog.set_level(logging.INFO)
    harness.llm.respond = lambda messages, response_format: harness.soap()
    transcript = harness.transcript()
    sid = transcript.session_id

    await withdraw(harness, withdrawal(sid))
    tombstone = await document(drafts, sid, WITHDRAWN_AT, "the tombstone")
    [record] = logged(caplog, "consent_withdrawn", sid)
    assert record.outcome == "no_draft"

    await harness.send(harness.event(transcript))
    await harness.eventually(
        lambda: logged(caplog, "drafting_skipped_consent_withdrawn", sid),
        WITHIN,
        "the skipped transcript",
    )
    assert harness.llm.calls == 0
    assert await drafts.find_one({"_id": sid}) == tombstone
    # A few relay rounds later, still nothing on draft.created.
    await asyncio.sleep(1.0)
    assert await harness.bus.total(events.DRAFT_CREATED) == 0


async def test_a_draft_finished_after_the_withdrawal_is_not_stored(
    harness, drafts, caplog
) -> None:
    caplog.set_level(logging.INFO)
    gate = threading.Event()

    def respond(messages: list[dict[str, Any]], response_format: Any) -> str:
        # Holds the model's answer until the test has seen the withdrawal recorded.
        gate.wait(WITHIN)
        return harness.soap()

    harness.llm.respond = respond
    transcript = harness.transcript()
    sid = transcript.session_id
    try:
        await harness.send(harness.event(transcript))
        await harness.eventually(lambda: harness.llm.calls >= 1, WITHIN, "a model call")
        await withdraw(harness, withdrawal(sid))
        tombstone = await document(drafts, sid, WITHDRAWN_AT, "the tombstone")
    finally:
        gate.set()

    await harness.eventually(
        lambda: logged(caplog, "draft_discarded_consent_withdrawn", sid),
        WITHIN,
        "the discarded draft",
    )
    assert not logged(caplog, "draft_stored", sid)
    assert await drafts.find_one({"_id": sid}) == tombstone
    await asyncio.sleep(1.0)
    assert await harness.bus.total(events.DRAFT_CREATED) == 0


async def test_a_repeated_withdrawal_is_harmless(harness, drafts, caplog) -> None:
    caplog.set_level(logging.INFO)
    harness.llm.reply(harness.soap())
    transcript = harness.transcript()
    sid = transcript.session_id
    ready = harness.event(transcript)
    await harness.send(ready)
    # Published before the withdrawal: the notes store discards it on its side.
    [(key, _)] = await harness.drafts(1)
    assert key == sid

    first = withdrawal(sid)
    await withdraw(harness, first)
    tombstone = await document(drafts, sid, WITHDRAWN_AT, "the tombstone")
    # The same event redelivered, then another event for the same session.
    await withdraw(harness, first)
    await withdraw(harness, withdrawal(sid))
    await harness.eventually(
        lambda: len(logged(caplog, "consent_withdrawn", sid)) == 3,
        WITHIN,
        "three withdrawals handled",
    )
    records = logged(caplog, "consent_withdrawn", sid)
    assert [r.outcome for r in records] == [
        "draft_removed",
        "already_withdrawn",
        "already_withdrawn",
    ]
    # The first withdrawal's time stays.
    assert await drafts.find_one({"_id": sid}) == tombstone

    # A redelivered transcript.ready is not drafted again either.
    await harness.send(ready)
    await harness.eventually(
        lambda: logged(caplog, "drafting_skipped_consent_withdrawn", sid),
        WITHIN,
        "the skipped transcript",
    )
    assert harness.llm.calls == 1
    assert await harness.bus.total(events.DRAFT_CREATED) == 1
    dlq = events.dead_letter_topic(events.CONSENT_WITHDRAWN)
    assert await harness.bus.total(dlq) == 0


async def test_malformed_withdrawals_are_dead_lettered(harness, drafts) -> None:
    topic = harness.settings.topic(events.CONSENT_WITHDRAWN)
    publisher = EventPublisher(harness.settings)
    await publisher.start()
    try:
        # A length-prefixed field cut short: not a protobuf message.
        await publisher.publish_raw(
            topic,
            "sess-garbled",
            b"\x12\x40sess",
            {
                "content-type": events.PROTOBUF,
                "event-type": events.CONSENT_WITHDRAWN,
                "event-id": "evt-garbled",
            },
        )
        await publisher.publish_raw(
            topic,
            "sess-json",
            b'{"sessionId": 12, "clinicianId": "clin-7"}',
            {"content-type": events.JSON, "event-type": events.CONSENT_WITHDRAWN},
        )
    finally:
        await publisher.stop()
    blank = withdrawal("  ")
    await harness.bus.publish(events.CONSENT_WITHDRAWN, "sess-blank", blank)

    letters = await harness.bus.read(
        events.dead_letter_topic(events.CONSENT_WITHDRAWN), DeadLetter, 3, WITHIN
    )
    by_key = {key: letter for key, letter in letters}
    assert {k: v.reason_code for k, v in by_key.items()} == {
        "sess-garbled": "bad_protobuf",
        "sess-json": "bad_json",
        "sess-blank": "missing_field",
    }
    assert "session_id" in by_key["sess-blank"].reason
    assert by_key["sess-garbled"].event_id == "evt-garbled"
    assert all(letter.service == "drafter" for letter in by_key.values())
    assert all(letter.source_topic == topic for letter in by_key.values())
    assert await drafts.count_documents({}) == 0
