"""The prompts service wired to Kafka (scores and wearable days in), MongoDB, the notes
store, the language model and gRPC; runs in-process for tests."""

from __future__ import annotations

from notewell.clinical.intake import ClinicalIntake, subscribe_clinical_topics
from notewell.clinical.store import ClinicalData
from notewell.platform import events
from notewell.platform.auth import TokenVerifier
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    ensure_topics,
    make_broker,
)
from notewell.platform.logs import get_logger
from notewell.platform.notes_context import NotesContextClient
from notewell.platform.service import ShutdownStack, connect
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
        self._parts = ShutdownStack()
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

        parts = self._parts
        mongo, publisher = await connect(settings, parts)
        sealer = Sealer(master_key_from_settings(settings))
        clinical = ClinicalData(mongo[settings.mongodb_database], sealer)
        await clinical.ensure_indexes()

        # Created before the consumers, so they are closed after the consumers stop.
        model = LanguageModel(settings)
        parts.push("model", model.close)
        templates = OwnTemplates(settings)
        parts.push("templates", templates.close)
        context = NotesContextClient(settings, settings.service_name)
        parts.push("notes_context", context.close)
        broker = make_broker(settings)
        subscribe_clinical_topics(
            broker,
            settings,
            ClinicalIntake(clinical, sealer),
            # Dead letters are the only thing this service publishes.
            DeadLetters(publisher, settings.service_name),
            settings.group_id,
        )
        parts.push("broker", broker.stop)
        await broker.start()

        servicer = PromptsService(
            settings,
            TokenVerifier(settings),
            RecordReader(context, clinical),
            templates,
            model,
        )
        server, self._port = await start_grpc_server(
            settings.grpc_port,
            [(prompts_pb2_grpc.add_PromptsServicer_to_server, servicer, SERVICE_NAME)],
        )
        parts.push("grpc", lambda: server.stop(grace=5))
        log.info("prompts_started", extra={"grpc_port": self._port})

    async def stop(self) -> None:
        """Stops serving, then consuming, then the connections. Safe to call twice."""
        await self._parts.aclose()
        log.info("prompts_stopped")
