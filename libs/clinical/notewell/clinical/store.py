"""A client's measurements and wearable days, kept sealed in MongoDB.

Each document holds the SealedBox exactly as it arrived on the topic (context =
measurement_id or summary_id) beside the ids, the instrument code and the date in
clear for querying; scores and wearable values exist only inside the box.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from notewell.clinical.instruments import normalise_code
from notewell.common.v1.common_pb2 import SealedBox
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.platform.crypto import Sealer
from notewell.platform.logs import get_logger

log = get_logger(__name__)

MEASUREMENTS = "measurements"
WEARABLE_DAYS = "wearable_days"


class ClinicalData:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], sealer: Sealer) -> None:
        self._measurements = database[MEASUREMENTS]
        self._days = database[WEARABLE_DAYS]
        self._sealer = sealer

    async def ensure_indexes(self) -> None:
        await self._measurements.create_index(
            [("clinician_id", ASCENDING), ("client_id", ASCENDING)]
        )
        await self._days.create_index(
            [("clinician_id", ASCENDING), ("client_id", ASCENDING)]
        )

    async def add_measurement(self, m: Measurement, sealed: SealedBox) -> bool:
        """Stores one administration; False when its measurement_id is already stored
        (a redelivery), leaving the stored one as it was."""
        document = {
            "_id": m.measurement_id,
            "clinician_id": m.clinician_id,
            "client_id": m.client_id,
            "instrument": normalise_code(m.instrument),
            "administered_at": m.administered_at.ToDatetime(tzinfo=UTC),
            "measurement": sealed.SerializeToString(),
        }
        try:
            await self._measurements.insert_one(document)
        except DuplicateKeyError:
            return False
        log.info(
            "measurement_stored",
            extra={"measurement_id": m.measurement_id, "client_id": m.client_id},
        )
        return True

    async def add_wearable_day(self, d: WearableDay, sealed: SealedBox) -> bool:
        """Stores one day's summary, replacing an earlier summary with the same
        summary_id. False when the very same sealed summary is already stored (a
        redelivery)."""
        body = sealed.SerializeToString()
        found = await self._days.find_one({"_id": d.summary_id}, {"summary": 1})
        if found is not None and found["summary"] == body:
            return False
        await self._days.replace_one(
            {"_id": d.summary_id},
            {
                "clinician_id": d.clinician_id,
                "client_id": d.client_id,
                "date": d.date,
                "summary": body,
            },
            upsert=True,
        )
        log.info(
            "wearable_day_stored",
            extra={
                "summary_id": d.summary_id,
                "client_id": d.client_id,
                "replaced": found is not None,
            },
        )
        return True

    async def measurements(self, clinician_id: str, client_id: str) -> list[Measurement]:
        """The client's measurements, oldest first."""
        out = []
        cursor = self._measurements.find(
            {"clinician_id": clinician_id, "client_id": client_id}
        ).sort([("administered_at", ASCENDING), ("_id", ASCENDING)])
        async for doc in cursor:
            box = SealedBox()
            box.ParseFromString(doc["measurement"])
            out.append(self._sealer.open(box, Measurement, context=doc["_id"]))
        return out

    async def wearable_days(self, clinician_id: str, client_id: str) -> list[WearableDay]:
        """The client's wearable days, oldest date first."""
        out = []
        cursor = self._days.find(
            {"clinician_id": clinician_id, "client_id": client_id}
        ).sort([("date", ASCENDING), ("_id", ASCENDING)])
        async for doc in cursor:
            box = SealedBox()
            box.ParseFromString(doc["summary"])
            out.append(self._sealer.open(box, WearableDay, context=doc["_id"]))
        return out

    async def forget_client(self, clinician_id: str, client_id: str) -> None:
        """Deletes every measurement and wearable day of the client."""
        query = {"clinician_id": clinician_id, "client_id": client_id}
        removed = await self._measurements.delete_many(query)
        days = await self._days.delete_many(query)
        log.info(
            "clinical_data_forgotten",
            extra={
                "client_id": client_id,
                "measurements": removed.deleted_count,
                "wearable_days": days.deleted_count,
            },
        )
