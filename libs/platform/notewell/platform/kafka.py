"""Publishing events, dead-lettering, and the consume loop every service shares."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from faststream.kafka.security import parse_security
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512
from google.protobuf.message import Message

from notewell.events.v1.events_pb2 import DeadLetter
from notewell.platform import events
from notewell.platform.logs import get_logger
from notewell.platform.settings import PlatformSettings

log = get_logger(__name__)

_SASL = {
    "PLAIN": SASLPlaintext,
    "SCRAM-SHA-256": SASLScram256,
    "SCRAM-SHA-512": SASLScram512,
}


def kafka_security(settings: PlatformSettings) -> BaseSecurity | None:
    """The FastStream security object for KAFKA_SECURITY_PROTOCOL and its companions;
    None for PLAINTEXT. The settings validator has already checked the combination."""
    protocol = settings.kafka_security_protocol
    if protocol == "PLAINTEXT":
        return None
    context = _ssl_context(settings) if protocol.endswith("SSL") else None
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    mechanism = settings.kafka_sasl_mechanism or "PLAIN"
    password = settings.kafka_sasl_password
    return _SASL[mechanism](
        username=settings.kafka_sasl_username or "",
        password=password.get_secret_value() if password else "",
        ssl_context=context,
        use_ssl=protocol == "SASL_SSL",
    )


def _ssl_context(settings: PlatformSettings) -> ssl.SSLContext:
    # Verifies the brokers' certificates and host names; the CA file replaces the
    # system's trust store when given.
    context = ssl.create_default_context(cafile=settings.kafka_ssl_ca_file)
    if settings.kafka_ssl_cert_file and settings.kafka_ssl_key_file:
        context.load_cert_chain(settings.kafka_ssl_cert_file, settings.kafka_ssl_key_file)
    return context


def connection_options(settings: PlatformSettings) -> dict[str, Any]:
    """Keyword arguments that connect any aiokafka client (producer, consumer, admin)
    the way the settings say: bootstrap servers plus security_protocol, ssl_context and
    the sasl_* options. FastStream's own mapping is used, so a broker from
    ``make_broker`` and these clients always connect alike."""
    return {
        "bootstrap_servers": settings.kafka_bootstrap_servers,
        "security_protocol": "PLAINTEXT",
        **parse_security(kafka_security(settings)),
    }


def make_broker(settings: PlatformSettings) -> KafkaBroker:
    """The FastStream broker a service subscribes through, connected and secured as
    the settings say. It logs through "faststream.<service>", which the platform's
    logging keeps at warning level, in the JSON format of the rest."""
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        client_id=settings.service_name,
        security=kafka_security(settings),
        max_request_size=settings.kafka_max_message_bytes,
        logger=get_logger(f"faststream.{settings.service_name}"),
    )


class EventPublisher:
    """Publishes encoded events keyed by session id, waiting for the broker's ack."""

    def __init__(self, settings: PlatformSettings) -> None:
        # No compression: the large values are sealed (AES-GCM ciphertext), which no
        # codec shrinks.
        self._producer = AIOKafkaProducer(
            **connection_options(settings),
            client_id=settings.service_name,
            acks="all",
            enable_idempotence=settings.kafka_enable_idempotence,
            max_request_size=settings.kafka_max_message_bytes,
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

    async def publish_raw(
        self, topic: str, key: str, value: bytes, headers: dict[str, str]
    ) -> None:
        await self._producer.send_and_wait(
            topic,
            value=value,
            key=key.encode(),
            headers=[(k, v.encode()) for k, v in headers.items()],
        )

    async def publish(self, topic: str, key: str, event: Message) -> None:
        value, headers = events.encode(event)
        await self.publish_raw(topic, key, value, headers)


@dataclass(frozen=True)
class Received:
    """One consumed record, as the handler sees it."""

    topic: str
    partition: int
    offset: int
    key: str
    value: bytes
    headers: dict[str, str]


class DeadLetters:
    """Sends records that can never be processed to "<topic>.dlq", with the original."""

    def __init__(self, publisher: EventPublisher, service: str) -> None:
        self._publisher = publisher
        self._service = service

    async def send(
        self,
        record: Received,
        error: events.InvalidEvent,
        session_id: str = "",
        event_id: str = "",
    ) -> None:
        letter = DeadLetter(
            source_topic=record.topic,
            source_partition=record.partition,
            source_offset=record.offset,
            reason_code=error.reason_code,
            reason=error.reason,
            session_id=session_id,
            event_id=event_id or record.headers.get("event-id", ""),
            failed_at=events.now_timestamp(),
            service=self._service,
            original_value=record.value,
            original_headers=record.headers,
        )
        key = session_id or f"{record.topic}-{record.partition}-{record.offset}"
        await self._publisher.publish(events.dead_letter_topic(record.topic), key, letter)
        log.warning(
            "event_dead_lettered",
            extra={
                "topic": record.topic,
                "partition": record.partition,
                "offset": record.offset,
                "reason_code": error.reason_code,
                "session_id": session_id,
            },
        )


Handler = Callable[[Received], Awaitable[None]]


class RetryLater(Exception):
    """A transient failure: the record is redelivered after a pause."""


def guarded(
    handler: Handler, dead_letters: DeadLetters, retry_pause_seconds: float = 2.0
) -> Handler:
    """Wraps a handler so that invalid events are dead-lettered and acknowledged, and any
    other failure pauses and raises, so the record is redelivered rather than lost."""

    async def run(record: Received) -> None:
        try:
            await handler(record)
        except events.InvalidEvent as error:
            await dead_letters.send(record, error, session_id=_session_hint(record))
        except Exception as exc:
            log.error(
                "event_processing_failed",
                extra={
                    "topic": record.topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "error_type": type(exc).__name__,
                },
            )
            await asyncio.sleep(retry_pause_seconds)
            raise RetryLater(type(exc).__name__) from None

    return run


def _session_hint(record: Received) -> str:
    # Our producers key every event by session id; a partner's key may be anything, so
    # only a short id-shaped key is carried over into the dead letter.
    key = record.key
    if key and len(key) <= 128 and all(c.isalnum() or c in "-_:." for c in key):
        return key
    return ""


async def ensure_topics(
    settings: PlatformSettings, topics: list[str], partitions: int = 3
) -> None:
    """Creates the topics that do not exist yet, each accepting records up to
    KAFKA_MAX_MESSAGE_BYTES. Production clusters usually declare topics up front (for
    example as Strimzi KafkaTopic resources); this is for the one-machine default and
    tests, and is harmless where they already exist."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(**connection_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in topics if t not in existing]
        if missing:
            await admin.create_topics(
                [
                    NewTopic(
                        t,
                        num_partitions=partitions,
                        replication_factor=1,
                        topic_configs={
                            "max.message.bytes": str(settings.kafka_max_message_bytes)
                        },
                    )
                    for t in missing
                ]
            )
    finally:
        await admin.close()
