"""The prompts service wired to Kafka (scores and wearable days in), MongoDB, the notes
store, the language model and gRPC; runs in-process for tests."""

from __future__ import annotations

from typing import Any

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from notewell.clinical.intake import ClinicalIntake, subscribe_clinical_topics
from notewell.clinical.store import ClinicalData
from notewell.platform import events
from notewell.platform.auth import TokenVerifier
from notewell.platform.clients import mongo_client
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
from notewell.prompts.model import LanguageModel
from notewell.prompts.own_templates import OwnTemplates
from notewell.prompts.record import RecordReader
from notewell.prompts.service import PromptsService
from notewell.prompts.settings import Settings
from notewell.prompts.v1 import prompts_pb2, prompts_pb2_grpc

log = get_logger(__name__)

SERVICE_NAME = prompts_pb2.DESCRIPTOR.services_by_name["Prompts"].full_name


class PromptsApp:
    """Consumes measurement.recorded and wearable.summary into its own store and serves
    Prompts over gRPC. ``start()`` returns once every part is running."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self._publisher: EventPublisher | None = None
        self._broker: KafkaBroker | None = None
        self._context: NotesContextClient | None = None
        self._templates: OwnTemplates | None = None
        self._model: LanguageModel | None = None
        self._server: grpc.aio.Server | None = None
        self._port = 0

    @property
    def grpc_port(self) -> int:
        return self._port

    async def start(self) -> None:
        settings = self._settings
        consumed = [
            settings.topic(events.MEASUREMENT_RECORDED),
            settings.topic(events.WEARABLE_SUMMARY),
        ]
        if settings.kafka_create_topics:
            await ensure_topics(
                settings, consumed + [events.dead_letter_topic(t) for t in consumed]
            )

        self._mongo = mongo_client(settings)
        sealer = Sealer(master_key_from_settings(settings))
        clinical = ClinicalData(self._mongo[settings.mongodb_database], sealer)
        await clinical.ensure_indexes()

        # Dead letters are the only thing this service publishes.
        self._publisher = EventPublisher(settings)
        await self._publisher.start()
        self._broker = make_broker(settings)
        subscribe_clinical_topics(
            self._broker,
            settings,
            ClinicalIntake(clinical, sealer),
            DeadLetters(self._publisher, settings.service_name),
            settings.group_id,
        )
        await self._broker.start()

        self._context = NotesContextClient(settings, settings.service_name)
        self._templates = OwnTemplates(settings)
        self._model = LanguageModel(settings)
        servicer = PromptsService(
            settings,
            TokenVerifier(settings),
            RecordReader(self._context, clinical),
            self._templates,
            self._model,
        )
        self._server, self._port = await start_grpc_server(
            settings.grpc_port,
            [(prompts_pb2_grpc.add_PromptsServicer_to_server, servicer, SERVICE_NAME)],
        )
        log.info("prompts_started", extra={"grpc_port": self._port})

    async def stop(self) -> None:
        """Stops serving, then consuming, then the connections. Safe to call twice."""
        if self._server is not None:
            await self._server.stop(grace=5)
            self._server = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        for closing in (self._context, self._templates, self._model):
            if closing is not None:
                await closing.close()
        self._context = self._templates = self._model = None
        if self._publisher is not None:
            await self._publisher.stop()
            self._publisher = None
        if self._mongo is not None:
            await self._mongo.close()
            self._mongo = None
        log.info("prompts_stopped")
