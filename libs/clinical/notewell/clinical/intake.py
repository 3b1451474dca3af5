"""Consuming measurement.recorded and wearable.summary into ClinicalData.

Each event is decoded, its sealed payload opened with the event's measurement_id or
summary_id as context, checked against the event's clear ids and validated. Input that
can never be stored raises InvalidEvent so the consumer dead-letters it; a storage
failure propagates so the record is redelivered.
"""

from __future__ import annotations

from datetime import date
from typing import TypeVar

from faststream.kafka import KafkaBroker

from notewell.clinical.measures import InvalidMeasurement, validate_measurement
from notewell.clinical.store import ClinicalData
from notewell.common.v1.common_pb2 import SealedBox
from notewell.events.v1.events_pb2 import MeasurementRecorded, WearableSummaryRecorded
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.platform import consumer, events
from notewell.platform.crypto import DecryptionError, Sealer
from notewell.platform.kafka import DeadLetters, Received
from notewell.platform.logs import get_logger
from notewell.platform.settings import PlatformSettings

log = get_logger(__name__)

M = TypeVar("M", Measurement, WearableDay)


class ClinicalIntake:
    def __init__(self, store: ClinicalData, sealer: Sealer) -> None:
        self._store = store
        self._sealer = sealer

    async def handle_measurement(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, MeasurementRecorded)
        _require(event, "measurement_id", "clinician_id", "client_id")
        if not event.HasField("measurement"):
            raise events.InvalidEvent("missing_field", "measurement is missing")
        m = self._open(event.measurement, Measurement, event.measurement_id)
        _same_ids(m, event, "measurement_id")
        try:
            validate_measurement(m)
        except InvalidMeasurement as exc:
            raise events.InvalidEvent(exc.code, exc.reason) from None
        stored = await self._store.add_measurement(m, event.measurement)
        if not stored:
            log.info(
                "measurement_already_stored",
                extra={"measurement_id": event.measurement_id},
            )

    async def handle_wearable(self, record: Received) -> None:
        event = events.decode(record.value, record.headers, WearableSummaryRecorded)
        _require(event, "summary_id", "clinician_id", "client_id")
        if not event.HasField("summary"):
            raise events.InvalidEvent("missing_field", "summary is missing")
        d = self._open(event.summary, WearableDay, event.summary_id)
        _same_ids(d, event, "summary_id")
        _validate_day(d)
        stored = await self._store.add_wearable_day(d, event.summary)
        if not stored:
            log.info(
                "wearable_day_already_stored", extra={"summary_id": event.summary_id}
            )

    def _open(self, box: SealedBox, message_type: type[M], context: str) -> M:
        try:
            return self._sealer.open(box, message_type, context=context)
        except DecryptionError:
            raise events.InvalidEvent(
                "unreadable_payload", f"sealed payload of {context} could not be opened"
            ) from None


def _require(event: MeasurementRecorded | WearableSummaryRecorded, *names: str) -> None:
    for name in names:
        if not getattr(event, name).strip():
            raise events.InvalidEvent("missing_field", f"{name} is missing")


def _same_ids(
    payload: Measurement | WearableDay,
    event: MeasurementRecorded | WearableSummaryRecorded,
    id_field: str,
) -> None:
    # The clear ids are what the store files the sealed payload under; a payload that
    # names someone else must not be filed under this client.
    for name in (id_field, "clinician_id", "client_id"):
        if getattr(payload, name) != getattr(event, name):
            raise events.InvalidEvent(
                "mismatched_ids", f"{name} differs between the event and its payload"
            )


def _validate_day(d: WearableDay) -> None:
    try:
        date.fromisoformat(d.date)
    except ValueError:
        raise events.InvalidEvent("bad_date", "date is not YYYY-MM-DD") from None
    if len(d.date) != 10:
        raise events.InvalidEvent("bad_date", "date is not YYYY-MM-DD")
    for name in ("sleep_minutes", "resting_heart_rate_bpm", "hrv_rmssd_ms", "steps"):
        if getattr(d, name) < 0:
            raise events.InvalidEvent("value_out_of_range", f"{name} is negative")
    if d.sleep_minutes > 24 * 60:
        raise events.InvalidEvent("value_out_of_range", "sleep_minutes exceeds a day")


def subscribe_clinical_topics(
    broker: KafkaBroker,
    settings: PlatformSettings,
    intake: ClinicalIntake,
    dead_letters: DeadLetters,
    group_id: str,
) -> None:
    """Subscribes the intake to measurement.recorded (consumer group ``group_id``) and
    wearable.summary (group ``<group_id>-wearables``), with the settings' topic
    prefix; invalid records go to each topic's .dlq. One group per topic keeps a
    rebalance of one subscription from pausing the other."""
    consumer.subscribe(
        broker,
        settings.topic(events.MEASUREMENT_RECORDED),
        group_id,
        intake.handle_measurement,
        dead_letters,
    )
    consumer.subscribe(
        broker,
        settings.topic(events.WEARABLE_SUMMARY),
        group_id + "-wearables",
        intake.handle_wearable,
        dead_letters,
    )
