"""A PLAINTEXT round trip through the real local broker (Tansu, which has no TLS or
SASL listener): topics made by ensure_topics, EventPublisher, and a broker from
make_broker with the platform's subscribe, carrying a record over Kafka's 1 MiB default.
"""

from __future__ import annotations

import asyncio
import os

import pytest
from aiokafka.errors import MessageSizeTooLargeError

from notewell.platform import events
from notewell.platform.consumer import subscribe
from notewell.platform.kafka import (
    DeadLetters,
    EventPublisher,
    Received,
    ensure_topics,
    make_broker,
)
from notewell.platform.settings import PlatformSettings

pytestmark = pytest.mark.asyncio


async def test_a_three_mebibyte_record_goes_round_the_broker_whole(
    service_env: dict[str, str], unique: str
) -> None:
    settings = PlatformSettings(**service_env, SERVICE_NAME="limits-test")  # type: ignore[arg-type]
    assert settings.kafka_security_protocol == "PLAINTEXT"
    topic = settings.topic("big.records")
    await ensure_topics(settings, [topic, events.dead_letter_topic(topic)])

    publisher = EventPublisher(settings)
    await publisher.start()
    broker = make_broker(settings)
    received: asyncio.Queue[Received] = asyncio.Queue()
    subscribe(
        broker,
        topic,
        f"limits-{unique}",
        received.put,
        DeadLetters(publisher, settings.service_name),
    )
    await broker.start()
    try:
        value = os.urandom(3 * 1024 * 1024)
        await publisher.publish_raw(topic, "s-big", value, {"event-id": "e-big"})
        record = await asyncio.wait_for(received.get(), timeout=30)
        assert record.key == "s-big"
        assert record.headers == {"event-id": "e-big"}
        assert record.value == value

        # Over KAFKA_MAX_MESSAGE_BYTES the producer refuses before sending.
        too_big = os.urandom(settings.kafka_max_message_bytes + 1)
        with pytest.raises(MessageSizeTooLargeError):
            await publisher.publish_raw(topic, "s-bigger", too_big, {})
    finally:
        await broker.stop()
        await publisher.stop()
