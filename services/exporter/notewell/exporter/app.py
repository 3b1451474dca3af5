"""The exporter wired to Kafka, MongoDB, S3 and gRPC; runs in-process for tests."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from notewell.exporter.export_service import SERVICE_NAME, ExporterService
from notewell.exporter.exports import COLLECTION, Exports
from notewell.exporter.note_saved import NoteSavedHandler
from notewell.exporter.notes_store import NotesStoreClient
from notewell.exporter.rendering import NoteRenderer
from notewell.exporter.settings import Settings
from notewell.exporter.v1 import exporter_pb2_grpc
from notewell.platform import events
from notewell.platform.auth import TokenVerifier
from notewell.platform.clients import s3_client
from notewell.platform.consumer import subscribe
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    ensure_topics,
    make_broker,
)
from notewell.platform.logs import get_logger
from notewell.platform.service import ShutdownStack, connect

log = get_logger(__name__)


class ExporterApp:
    """Consumes note.saved into PDFs in S3 and serves Exporter.ExportNote.
    ``start()`` returns once every part is running."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._parts = ShutdownStack()
        self._grpc_port = 0

    @property
    def grpc_port(self) -> int:
        """The port the gRPC server is bound to (useful when GRPC_PORT is 0)."""
        return self._grpc_port

    async def start(self) -> None:
        settings = self._settings
        consumed = settings.topic(events.NOTE_SAVED)
        if settings.kafka_create_topics:
            await ensure_topics(settings, [consumed, events.dead_letter_topic(consumed)])

        parts = self._parts
        mongo, publisher = await connect(settings, parts)
        exports = Exports(
            mongo[settings.mongodb_database][COLLECTION],
            s3_client(settings),
            settings.export_bucket,
            NoteRenderer(ZoneInfo(settings.export_timezone)),
            kms_key_id=settings.export_kms_key_id,
            presigner=_presigner(settings),
        )
        await exports.ensure_bucket()

        # Created before the consumer, so it is closed after the consumer stops.
        notes_store = NotesStoreClient(
            settings.notes_store_address, settings.notes_store_timeout_seconds
        )
        parts.push("notes_store", notes_store.close)
        handler = NoteSavedHandler(Sealer(master_key_from_settings(settings)), exports)
        broker = make_broker(settings)
        subscribe(
            broker,
            consumed,
            settings.group_id,
            handler.handle,
            DeadLetters(publisher, settings.service_name),
        )
        parts.push("broker", broker.stop)
        await broker.start()

        service = ExporterService(
            TokenVerifier(settings),
            notes_store,
            exports,
            settings.export_url_ttl_seconds,
        )
        server, self._grpc_port = await start_grpc_server(
            settings.grpc_port,
            [(exporter_pb2_grpc.add_ExporterServicer_to_server, service, SERVICE_NAME)],
        )
        parts.push("grpc", lambda: server.stop(grace=2))
        log.info("exporter_started", extra={"grpc_port": self._grpc_port})

    async def stop(self) -> None:
        """Stops serving and consuming, then closes the clients; safe to call twice."""
        await self._parts.aclose()
        log.info("exporter_stopped")


def _presigner(settings: Settings) -> Any:
    """An S3 client for S3_PUBLIC_ENDPOINT_URL, or None when links use the service's."""
    public = settings.s3_public_endpoint_url
    if not public:
        return None
    return s3_client(settings.model_copy(update={"s3_endpoint_url": public}))
