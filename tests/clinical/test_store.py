from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from notewell.clinical.store import MEASUREMENTS, WEARABLE_DAYS, ClinicalData
from notewell.measures.v1.measures_pb2 import WearableDay
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.settings import PlatformSettings
from notewell_tools.clinical_data import sample_measurements, sample_wearable_days

START = date(2026, 9, 1)


@pytest.fixture
async def database(service_env: dict[str, str]) -> AsyncIterator[Any]:
    settings = PlatformSettings(**service_env)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(settings.mongodb_uri)
    try:
        yield client[settings.mongodb_database]
    finally:
        await client.close()


@pytest.fixture
def sealer(service_env: dict[str, str]) -> Sealer:
    return Sealer(master_key_from_settings(PlatformSettings(**service_env)))


async def test_measurements_are_idempotent_sealed_and_oldest_first(
    database: Any, sealer: Sealer
) -> None:
    store = ClinicalData(database, sealer)
    await store.ensure_indexes()
    series = sample_measurements("clin-1", "client-1", START)
    # Stored newest first, read back oldest first.
    for m in reversed(series):
        assert await store.add_measurement(m, sealer.seal(m, context=m.measurement_id))
    again = series[3]
    assert not await store.add_measurement(
        again, sealer.seal(again, context=again.measurement_id)
    )
    other = sample_measurements("clin-1", "client-2", START)[0]
    await store.add_measurement(other, sealer.seal(other, context=other.measurement_id))

    got = await store.measurements("clin-1", "client-1")
    assert got == sorted(
        series, key=lambda m: (m.administered_at.seconds, m.measurement_id)
    )
    assert len(got) == 14
    assert await store.measurements("clin-2", "client-1") == []

    raw = await database[MEASUREMENTS].find_one({"_id": series[0].measurement_id})
    assert set(raw) == {
        "_id",
        "clinician_id",
        "client_id",
        "instrument",
        "administered_at",
        "measurement",
    }
    assert raw["instrument"] == "PHQ-9"
    assert raw["administered_at"].replace(tzinfo=UTC) == datetime(
        2026, 9, 1, 15, tzinfo=UTC
    )
    # The scores exist only inside the sealed box: neither the plaintext
    # serialisation nor its item scores appear in the stored bytes.
    assert series[0].SerializeToString() not in raw["measurement"]
    assert bytes(series[0].item_scores) not in raw["measurement"]
    assert b"sample-measures" not in raw["measurement"]


async def test_wearable_days_replace_by_summary_id_and_forget(
    database: Any, sealer: Sealer
) -> None:
    store = ClinicalData(database, sealer)
    await store.ensure_indexes()
    days = sample_wearable_days("clin-1", "client-1", START, days=5)
    boxes = [sealer.seal(d, context=d.summary_id) for d in days]
    for d, box in zip(days, boxes, strict=True):
        assert await store.add_wearable_day(d, box)
    # A redelivery of the same sealed summary changes nothing.
    assert not await store.add_wearable_day(days[2], boxes[2])
    # A later summary of the same day replaces the earlier.
    corrected = WearableDay()
    corrected.CopyFrom(days[2])
    corrected.steps = 12345
    assert await store.add_wearable_day(
        corrected, sealer.seal(corrected, context=corrected.summary_id)
    )

    got = await store.wearable_days("clin-1", "client-1")
    assert [d.date for d in got] == [d.date for d in days]
    assert got[2] == corrected
    assert got[0] == days[0]
    assert await database[WEARABLE_DAYS].count_documents({}) == 5
    raw = await database[WEARABLE_DAYS].find_one({"_id": days[0].summary_id})
    assert set(raw) == {"_id", "clinician_id", "client_id", "date", "summary"}
    assert raw["date"] == "2026-09-01"
    assert days[0].SerializeToString() not in raw["summary"]
    assert b"sample-watch" not in raw["summary"]

    m = sample_measurements("clin-1", "client-1", START)[0]
    await store.add_measurement(m, sealer.seal(m, context=m.measurement_id))
    kept = sample_measurements("clin-1", "client-9", START)[0]
    await store.add_measurement(kept, sealer.seal(kept, context=kept.measurement_id))

    await store.forget_client("clin-1", "client-1")
    assert await store.wearable_days("clin-1", "client-1") == []
    assert await store.measurements("clin-1", "client-1") == []
    assert await store.measurements("clin-1", "client-9") == [kept]
