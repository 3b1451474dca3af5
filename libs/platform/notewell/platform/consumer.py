"""Subscribing a handler to a topic through FastStream with at-least-once delivery.

Offsets are committed only after the handler returns; a failed record is redelivered;
invalid records are dead-lettered. ``max_poll_interval_ms`` should exceed the longest
handler run, so a slow model call does not get the consumer evicted from its group.
"""

from __future__ import annotations

from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from notewell.platform import events
from notewell.platform.kafka import DeadLetters, Handler, Received, guarded
from notewell.platform.settings import DEFAULT_KAFKA_MAX_MESSAGE_BYTES


def subscribe(
    broker: KafkaBroker,
    topic: str,
    group_id: str,
    handler: Handler,
    dead_letters: DeadLetters,
    max_poll_interval_ms: int = 300_000,
    max_partition_fetch_bytes: int = DEFAULT_KAFKA_MAX_MESSAGE_BYTES,
) -> None:
    """Runs ``handler`` on every record of ``topic`` in consumer group ``group_id``.
    ``max_partition_fetch_bytes`` should be at least KAFKA_MAX_MESSAGE_BYTES, so the
    largest record a producer may send is fetched whole."""
    run = guarded(handler, dead_letters)

    @broker.subscriber(
        topic,
        group_id=group_id,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        max_poll_interval_ms=max_poll_interval_ms,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )
    async def consume(message: KafkaMessage) -> None:
        raw = message.raw_message
        # A tuple only for batch subscribers, which this one is not.
        assert not isinstance(raw, tuple)
        key = raw.key.decode("utf-8", "replace") if raw.key else ""
        await run(
            Received(
                topic=raw.topic,
                partition=raw.partition,
                offset=raw.offset,
                key=key,
                value=raw.value or b"",
                headers=events.headers_from_kafka(raw.headers),
            )
        )
