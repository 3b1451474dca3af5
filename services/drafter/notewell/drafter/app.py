"""The drafter wired to Kafka, MongoDB, the language model and gRPC; runs in-process
for tests."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from notewell.clinical.intake import ClinicalIntake, subscribe_clinical_topics
from notewell.clinical.store import ClinicalData
from notewell.drafter.consent_withdrawal import ConsentWithdrawal
from notewell.drafter.drafting import Drafter
from notewell.drafter.drafts import COLLECTION, Drafts
from notewell.drafter.handler import TranscriptReadyHandler
from notewell.drafter.inputs import InputGatherer
from notewell.drafter.model import LanguageModel
from notewell.drafter.settings import Settings
from notewell.platform import events
from notewell.platform.clients import mongo_client
from notewell.platform.consumer import subscribe
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    EventPublisher,
    ensure_topics,
    make_broker,
)
from notewell.platform.logs import get_logger
from notewell.platform.notes_context import NotesContextClient
from notewell.platform.outbox import OutboxRelay

log = get_logger(__name__)


class DrafterApp:
    """Consumes transcript.ready, consent.withdrawn, measurement.recorded and
    wearable.summary, stores drafts and the client's scores and wearable days, relays
    draft.created, serves gRPC health. ``start()`` returns once every part is
    running."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self._publisher: EventPublisher | None = None
        self._model: LanguageModel | None = None
        self._notes_context: NotesContextClient | None = None
        self._broker: KafkaBroker | None = None
        self._relay: OutboxRelay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._grpc: grpc.aio.Server | None = None
        self._grpc_port = 0

    @property
    def grpc_port(self) -> int:
        """The port the gRPC server is bound to (useful when GRPC_PORT is 0)."""
        return self._grpc_port

    async def start(self) -> None:
        settings = self._settings
        consumed = settings.topic(events.TRANSCRIPT_READY)
        withdrawn = settings.topic(events.CONSENT_WITHDRAWN)
        published = settings.topic(events.DRAFT_CREATED)
        clinical_topics = [
            settings.topic(events.MEASUREMENT_RECORDED),
            settings.topic(events.WEARABLE_SUMMARY),
        ]
        if settings.kafka_create_topics:
            await ensure_topics(
                settings,
                [
                    consumed,
                    events.dead_letter_topic(consumed),
                    withdrawn,
                    events.dead_letter_topic(withdrawn),
                    published,
                    *clinical_topics,
                    *(events.dead_letter_topic(t) for t in clinical_topics),
                ],
            )

        self._mongo = mongo_client(settings)
        collection = self._mongo[settings.mongodb_database][COLLECTION]
        self._publisher = EventPublisher(settings)
        await self._publisher.start()
        self._relay = OutboxRelay(collection, self._publisher)
        await self._relay.ensure_indexes()
        self._relay_task = asyncio.create_task(self._relay.run(), name="outbox-relay")

        sealer = Sealer(master_key_from_settings(settings))
        # Scores and wearable days are the drafter's own data, kept sealed beside the
        # drafts.
        clinical = ClinicalData(self._mongo[settings.mongodb_database], sealer)
        await clinical.ensure_indexes()
        self._model = LanguageModel(settings)
        self._notes_context = NotesContextClient(settings, "drafter")
        drafts = Drafts(collection)
        handler = TranscriptReadyHandler(
            drafts,
            Drafter(self._model, settings),
            InputGatherer(self._notes_context, clinical),
            sealer,
            published,
        )
        self._broker = make_broker(settings)
        dead_letters = DeadLetters(self._publisher, settings.service_name)
        # One record at a time: a session's redelivery never races its first delivery.
        subscribe(
            self._broker,
            consumed,
            settings.group_id,
            handler.handle,
            dead_letters,
            max_poll_interval_ms=settings.max_poll_interval_ms,
        )
        # A group of its own: one group with different subscriptions would make every
        # join rebalance the drafting consumer too.
        subscribe(
            self._broker,
            withdrawn,
            settings.group_id + "-consent",
            ConsentWithdrawal(drafts).handle,
            dead_letters,
        )
        subscribe_clinical_topics(
            self._broker,
            settings,
            ClinicalIntake(clinical, sealer),
            dead_letters,
            settings.group_id + "-clinical",
        )
        await self._broker.start()

        self._grpc, self._grpc_port = await start_grpc_server(settings.grpc_port, [])
        log.info("drafter_started", extra={"grpc_port": self._grpc_port})

    async def stop(self) -> None:
        """Stops serving and consuming, then the relay, then the connections. Events
        still queued in the outbox go out on the next start. Safe to call twice."""
        if self._grpc is not None:
            await self._grpc.stop(grace=2)
            self._grpc = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        if self._relay is not None and self._relay_task is not None:
            self._relay.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay_task
            self._relay_task = None
        if self._model is not None:
            await self._model.close()
            self._model = None
        if self._notes_context is not None:
            await self._notes_context.close()
            self._notes_context = None
        if self._publisher is not None:
            await self._publisher.stop()
            self._publisher = None
        if self._mongo is not None:
            await self._mongo.close()
            self._mongo = None
        log.info("drafter_stopped")
