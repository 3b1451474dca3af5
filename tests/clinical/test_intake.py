from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from notewell.clinical.intake import ClinicalIntake, subscribe_clinical_topics
from notewell.clinical.store import ClinicalData
from notewell.common.v1.common_pb2 import SealedBox
from notewell.events.v1.events_pb2 import (
    DeadLetter,
    MeasurementRecorded,
    WearableSummaryRecorded,
)
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.platform import events
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import DeadLetters, EventPublisher, Received, ensure_topics
from notewell.platform.settings import PlatformSettings
from notewell_tools.clinical_data import (
    publish_clinical_data,
    sample_measurements,
    sample_wearable_days,
)

START = date(2026, 9, 1)
DEADLINE_SECONDS = 60.0
T = TypeVar("T")


async def eventually(attempt: Callable[[], Awaitable[T | None]], failure: str) -> T:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        outcome = await attempt()
        if outcome is not None:
            return outcome
        if time.monotonic() > deadline:
            pytest.fail(failure)
        await asyncio.sleep(0.3)


@dataclass
class Setup:
    settings: PlatformSettings
    sealer: Sealer
    store: ClinicalData
    intake: ClinicalIntake


@pytest.fixture
async def setup(service_env: dict[str, str]) -> AsyncIterator[Setup]:
    settings = PlatformSettings(**service_env)
    sealer = Sealer(master_key_from_settings(settings))
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    store = ClinicalData(client[settings.mongodb_database], sealer)
    await store.ensure_indexes()
    try:
        yield Setup(settings, sealer, store, ClinicalIntake(store, sealer))
    finally:
        await client.close()


def record(
    event: Any, topic: str = "t", headers: dict[str, str] | None = None
) -> Received:
    value, encoded = events.encode(event)
    return Received(topic, 0, 0, "k", value, headers or encoded)


def recorded(m: Measurement, box: SealedBox) -> MeasurementRecorded:
    return MeasurementRecorded(
        event_id="e-1",
        measurement_id=m.measurement_id,
        clinician_id=m.clinician_id,
        client_id=m.client_id,
        measurement=box,
    )


async def test_handlers_store_valid_events_and_reject_bad_ones(setup: Setup) -> None:
    m = sample_measurements("clin-1", "client-1", START)[0]
    good = recorded(m, setup.sealer.seal(m, context=m.measurement_id))
    await setup.intake.handle_measurement(record(good))
    await setup.intake.handle_measurement(record(good))  # redelivery
    assert await setup.store.measurements("clin-1", "client-1") == [m]

    out_of_range = Measurement()
    out_of_range.CopyFrom(m)
    out_of_range.total_score = 40
    del out_of_range.item_scores[:]
    wrong_items = Measurement()
    wrong_items.CopyFrom(m)
    wrong_items.item_scores.append(1)
    someone_else = Measurement()
    someone_else.CopyFrom(m)
    someone_else.client_id = "client-2"
    cases = [
        (
            recorded(out_of_range, setup.sealer.seal(out_of_range, m.measurement_id)),
            "score_out_of_range",
        ),
        (
            recorded(wrong_items, setup.sealer.seal(wrong_items, m.measurement_id)),
            "wrong_item_count",
        ),
        (recorded(m, setup.sealer.seal(m, context="another-id")), "unreadable_payload"),
        (
            recorded(m, setup.sealer.seal(someone_else, m.measurement_id)),
            "mismatched_ids",
        ),
        (
            MeasurementRecorded(measurement_id="x", clinician_id="c", client_id="k"),
            "missing_field",
        ),
        (
            recorded(m, SealedBox(content_type="notewell.measures.v1.Measurement")),
            "unreadable_payload",
        ),
    ]
    for event, code in cases:
        with pytest.raises(events.InvalidEvent) as err:
            await setup.intake.handle_measurement(record(event))
        assert err.value.reason_code == code
        assert "40" not in err.value.reason
    with pytest.raises(events.InvalidEvent) as err:
        await setup.intake.handle_measurement(
            Received("t", 0, 0, "k", b"\x0a\xff\xff", {"content-type": events.PROTOBUF})
        )
    assert err.value.reason_code == "bad_protobuf"

    day = sample_wearable_days("clin-1", "client-1", START, days=1)[0]
    bad_day = WearableDay()
    bad_day.CopyFrom(day)
    bad_day.date = "1 Sept"
    for d, code in ((bad_day, "bad_date"), (day, None)):
        event = WearableSummaryRecorded(
            event_id="e-2",
            summary_id=d.summary_id,
            clinician_id=d.clinician_id,
            client_id=d.client_id,
            summary=setup.sealer.seal(d, context=d.summary_id),
        )
        if code is None:
            await setup.intake.handle_wearable(record(event))
        else:
            with pytest.raises(events.InvalidEvent) as err:
                await setup.intake.handle_wearable(record(event))
            assert err.value.reason_code == code
    assert await setup.store.wearable_days("clin-1", "client-1") == [day]
    # Nothing invalid was stored.
    assert await setup.store.measurements("clin-1", "client-2") == []


async def read_topic(settings: PlatformSettings, topic: str) -> list[Any]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        await consumer.topics()
        numbers = consumer.partitions_for_topic(topic) or set()
        partitions = [TopicPartition(topic, p) for p in sorted(numbers)]
        if not partitions:
            return []
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Any] = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def test_published_events_are_stored_and_malformed_ones_dead_lettered(
    setup: Setup,
) -> None:
    settings = setup.settings
    measurement_topic = settings.topic(events.MEASUREMENT_RECORDED)
    wearable_topic = settings.topic(events.WEARABLE_SUMMARY)
    await ensure_topics(
        settings,
        [
            measurement_topic,
            wearable_topic,
            events.dead_letter_topic(measurement_topic),
            events.dead_letter_topic(wearable_topic),
        ],
    )
    publisher = EventPublisher(settings)
    await publisher.start()
    broker = KafkaBroker(settings.kafka_bootstrap_servers, client_id="clinical-test")
    subscribe_clinical_topics(
        broker,
        settings,
        setup.intake,
        DeadLetters(publisher, "clinical-test"),
        "clinical-intake",
    )
    await broker.start()
    try:
        measurements = sample_measurements("clin-1", "client-1", START)
        days = sample_wearable_days("clin-1", "client-1", START)
        await publish_clinical_data(settings, measurements, days)
        # A second publication of the same measurements (fresh event ids, fresh
        # seals) stores nothing new.
        await publish_clinical_data(settings, measurements[:3], [])
        await publisher.publish_raw(
            measurement_topic, "m-bad", b"not protobuf \xff", {"content-type": "text/x"}
        )
        broken = measurements[0]
        await publisher.publish(
            measurement_topic,
            "m-moved",
            recorded(broken, setup.sealer.seal(broken, context="elsewhere")),
        )

        async def all_stored() -> tuple[list[Measurement], list[WearableDay]] | None:
            got = await setup.store.measurements("clin-1", "client-1")
            got_days = await setup.store.wearable_days("clin-1", "client-1")
            if len(got) < len(measurements) or len(got_days) < len(days):
                return None
            return got, got_days

        got, got_days = await eventually(all_stored, "clinical data was not stored")
        assert sorted(m.measurement_id for m in got) == sorted(
            m.measurement_id for m in measurements
        )
        assert got_days == days

        async def two_letters() -> list[DeadLetter] | None:
            found = await read_topic(
                settings, events.dead_letter_topic(measurement_topic)
            )
            if len(found) < 2:
                return None
            return [DeadLetter.FromString(r.value) for r in found]

        letters = await eventually(two_letters, "malformed events were not dead-lettered")
        assert sorted(letter.reason_code for letter in letters) == [
            "bad_content_type",
            "unreadable_payload",
        ]
        assert all(letter.source_topic == measurement_topic for letter in letters)
    finally:
        await broker.stop()
        await publisher.stop()

    assert len(await setup.store.measurements("clin-1", "client-1")) == 14
