"""The drafter wired to Kafka, MongoDB, the language model and gRPC; runs in-process
for tests."""

from __future__ import annotations

import asyncio

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
from notewell.platform.consumer import subscribe
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    ensure_topics,
    make_broker,
)
from notewell.platform.logs import get_logger
from notewell.platform.notes_context import NotesContextClient
from notewell.platform.outbox import OutboxRelay
from notewell.platform.service import ShutdownStack, connect

log = get_logger(__name__)


class DrafterApp:
    """Consumes transcript.ready, consent.withdrawn, measurement.recorded and
    wearable.summary, stores drafts and the client's scores and wearable days, relays
    draft.created, serves gRPC health. ``start()`` returns once every part is
    running."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._parts = ShutdownStack()
        self._relay: OutboxRelay | None = None
        self._relay_task: asyncio.Task[None] | None = None
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

        parts = self._parts
        mongo, publisher = await connect(settings, parts)
        collection = mongo[settings.mongodb_database][COLLECTION]
        notes_context = NotesContextClient(settings, "drafter")
        parts.push("notes_context", notes_context.close)
        model = LanguageModel(settings)
        parts.push("model", model.close)
        self._relay = relay = OutboxRelay(collection, publisher)
        await relay.ensure_indexes()
        self._relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        parts.push_task("outbox_relay", self._relay_task, relay.stop)

        sealer = Sealer(master_key_from_settings(settings))
        # Scores and wearable days are the drafter's own data, kept sealed beside the
        # drafts.
        clinical = ClinicalData(mongo[settings.mongodb_database], sealer)
        await clinical.ensure_indexes()
        drafts = Drafts(collection)
        handler = TranscriptReadyHandler(
            drafts,
            Drafter(model, settings),
            InputGatherer(notes_context, clinical),
            sealer,
            published,
        )
        broker = make_broker(settings)
        dead_letters = DeadLetters(publisher, settings.service_name)
        # One record at a time: a session's redelivery never races its first delivery.
        subscribe(
            broker,
            consumed,
            settings.group_id,
            handler.handle,
            dead_letters,
            max_poll_interval_ms=settings.max_poll_interval_ms,
        )
        # A group of its own: one group with different subscriptions would make every
        # join rebalance the drafting consumer too.
        subscribe(
            broker,
            withdrawn,
            settings.group_id + "-consent",
            ConsentWithdrawal(drafts).handle,
            dead_letters,
        )
        subscribe_clinical_topics(
            broker,
            settings,
            ClinicalIntake(clinical, sealer),
            dead_letters,
            settings.group_id + "-clinical",
        )
        parts.push("broker", broker.stop)
        await broker.start()

        server, self._grpc_port = await start_grpc_server(settings.grpc_port, [])
        parts.push("grpc", lambda: server.stop(grace=2))
        log.info("drafter_started", extra={"grpc_port": self._grpc_port})

    async def stop(self) -> None:
        """Stops serving and consuming, then the relay, then the connections. Events
        still queued in the outbox go out on the next start. Safe to call twice."""
        await self._parts.aclose()
        log.info("drafter_stopped")
