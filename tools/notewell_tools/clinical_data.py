"""Sample measurement-based-care data for demos and tests, and a publisher that plays
the partner platforms: PHQ-9 and GAD-7 every two weeks over three months, improving,
and sixty days of wearable summaries, sealed onto measurement.recorded and
wearable.summary.

The series are deterministic for a given clinician, client and start.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.events.v1.events_pb2 import MeasurementRecorded, WearableSummaryRecorded
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.platform import events
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.kafka import EventPublisher, ensure_topics
from notewell.platform.settings import PlatformSettings

# Totals at each fortnightly administration, first to last.
PHQ9_TOTALS = (17, 16, 14, 12, 11, 9, 8)
GAD7_TOTALS = (14, 13, 11, 10, 8, 7, 6)

MEASUREMENT_SOURCE = "sample-measures"
WEARABLE_SOURCE = "sample-watch"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "notewell-sample/" + "/".join(parts)))


def _items(total: int, count: int, first_items_heavier: bool = True) -> list[int]:
    """Spreads a total over items scored 0-3, the earlier items taking more."""
    items = [0] * count
    left = total
    for round_ in range(3):
        for i in range(count):
            if left and items[i] == round_:
                items[i] += 1
                left -= 1
    return items


def _at(start: datetime | date, days: int) -> Timestamp:
    base = (
        start
        if isinstance(start, datetime)
        else datetime(start.year, start.month, start.day, 15, tzinfo=UTC)
    )
    if base.tzinfo is None:
        base = base.replace(tzinfo=UTC)
    out = Timestamp()
    out.FromDatetime(base + timedelta(days=days))
    return out


def sample_measurements(
    clinician_id: str, client_id: str, start: datetime | date
) -> list[Measurement]:
    """PHQ-9 and GAD-7 every 14 days from ``start`` for twelve weeks, oldest first. At
    intake the PHQ-9's item 9 is 1; later it is 0."""
    out = []
    for n, (phq, gad) in enumerate(zip(PHQ9_TOTALS, GAD7_TOTALS, strict=True)):
        at = _at(start, 14 * n)
        phq_items = [*_items(phq - (1 if n == 0 else 0), 8), 1 if n == 0 else 0]
        for code, total, items in (
            ("PHQ-9", phq, phq_items),
            ("GAD-7", gad, _items(gad, 7)),
        ):
            out.append(
                Measurement(
                    measurement_id=_id(clinician_id, client_id, code, str(n)),
                    client_id=client_id,
                    clinician_id=clinician_id,
                    instrument=code,
                    total_score=total,
                    item_scores=items,
                    administered_at=at,
                    source=MEASUREMENT_SOURCE,
                )
            )
    return out


def sample_wearable_days(
    clinician_id: str, client_id: str, start: datetime | date, days: int = 60
) -> list[WearableDay]:
    """One summary a day for ``days`` days from ``start``: sleep lengthening, resting
    heart rate easing, HRV and steps rising, with some nights the watch was off."""
    first = start.date() if isinstance(start, datetime) else start
    noise = random.Random(_id(clinician_id, client_id, "wearables"))
    out = []
    for n in range(days):
        progress = n / max(days - 1, 1)
        on = first + timedelta(days=n)
        worn_at_night = noise.random() > 0.1
        out.append(
            WearableDay(
                summary_id=_id(clinician_id, client_id, on.isoformat(), WEARABLE_SOURCE),
                client_id=client_id,
                clinician_id=clinician_id,
                date=on.isoformat(),
                sleep_minutes=(
                    round(365 + 75 * progress + noise.gauss(0, 20))
                    if worn_at_night
                    else 0
                ),
                resting_heart_rate_bpm=(
                    round(67 - 8 * progress + noise.gauss(0, 1.5)) if worn_at_night else 0
                ),
                hrv_rmssd_ms=(
                    round(31 + 13 * progress + noise.gauss(0, 3), 1)
                    if worn_at_night
                    else 0
                ),
                steps=max(0, round(4800 + 2800 * progress + noise.gauss(0, 900))),
                source=WEARABLE_SOURCE,
            )
        )
    return out


async def publish_clinical_data(
    settings: PlatformSettings,
    measurements: Sequence[Measurement],
    days: Sequence[WearableDay],
) -> None:
    """Seals each measurement and day (context = its id) and publishes it keyed by
    measurement_id or summary_id, as a partner platform would."""
    measurement_topic = settings.topic(events.MEASUREMENT_RECORDED)
    wearable_topic = settings.topic(events.WEARABLE_SUMMARY)
    if settings.kafka_create_topics:
        await ensure_topics(
            settings,
            [
                measurement_topic,
                wearable_topic,
                events.dead_letter_topic(measurement_topic),
                events.dead_letter_topic(wearable_topic),
            ],
        )
    sealer = Sealer(master_key_from_settings(settings))
    publisher = EventPublisher(settings)
    await publisher.start()
    try:
        for m in measurements:
            recorded = MeasurementRecorded(
                event_id=events.new_event_id(),
                measurement_id=m.measurement_id,
                clinician_id=m.clinician_id,
                client_id=m.client_id,
                measurement=sealer.seal(m, context=m.measurement_id),
                occurred_at=m.administered_at,
            )
            await publisher.publish(measurement_topic, m.measurement_id, recorded)
        for d in days:
            summary = WearableSummaryRecorded(
                event_id=events.new_event_id(),
                summary_id=d.summary_id,
                clinician_id=d.clinician_id,
                client_id=d.client_id,
                summary=sealer.seal(d, context=d.summary_id),
                occurred_at=events.now_timestamp(),
            )
            await publisher.publish(wearable_topic, d.summary_id, summary)
    finally:
        await publisher.stop()
