"""The transcriber wired to Kafka, MongoDB, S3 and gRPC; runs in-process for tests."""

from __future__ import annotations

import asyncio
from datetime import timedelta

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
from notewell.platform.outbox import OutboxRelay
from notewell.platform.service import ShutdownStack, connect
from notewell.transcriber.progress import Progress
from notewell.transcriber.recordings import Recordings
from notewell.transcriber.sessions import COLLECTION, Sessions
from notewell.transcriber.settings import Settings
from notewell.transcriber.speech_to_text import SpeechToText, speech_to_text
from notewell.transcriber.transcript_files import TranscriptFiles
from notewell.transcriber.transcription import Transcriber, max_event_bytes
from notewell.transcriber.transcripts_api import TranscriptsService
from notewell.transcripts.v1 import transcripts_pb2, transcripts_pb2_grpc

SWEEP_SECONDS = 60.0

log = get_logger(__name__)


class TranscriberApp:
    """Consumes session.ended and consent.withdrawn, stores transcripts, relays
    transcript.ready, serves the Transcripts gRPC service. ``start()`` returns once
    every part is running. ``stt`` replaces the configured speech-to-text engine."""

    def __init__(self, settings: Settings, stt: SpeechToText | None = None) -> None:
        self._settings = settings
        self._stt = stt
        self._parts = ShutdownStack()
        self._transcriber: Transcriber | None = None
        self._grpc_port = 0

    @property
    def grpc_port(self) -> int:
        """The port the gRPC server is bound to (useful when GRPC_PORT is 0)."""
        return self._grpc_port

    async def start(self) -> None:
        settings = self._settings
        consumed = settings.topic(events.SESSION_ENDED)
        withdrawn = settings.topic(events.CONSENT_WITHDRAWN)
        ready_topic = settings.topic(events.TRANSCRIPT_READY)
        if settings.kafka_create_topics:
            await ensure_topics(
                settings,
                [
                    consumed,
                    events.dead_letter_topic(consumed),
                    withdrawn,
                    events.dead_letter_topic(withdrawn),
                    ready_topic,
                ],
            )

        parts = self._parts
        mongo, publisher = await connect(settings, parts)
        collection = mongo[settings.mongodb_database][COLLECTION]
        relay = OutboxRelay(collection, publisher)
        await relay.ensure_indexes()
        relay_task = asyncio.create_task(relay.run(), name="outbox-relay")
        parts.push_task("outbox_relay", relay_task, relay.stop)

        sealer = Sealer(master_key_from_settings(settings))
        files = TranscriptFiles(s3_client(settings), settings.max_transcript_bytes)
        sessions = Sessions(collection)
        progress = Progress(mongo[settings.mongodb_database], sealer)
        await progress.ensure_indexes()
        recordings = Recordings(
            files,
            self._stt or speech_to_text(settings),
            progress,
            settings.chunk_seconds,
            settings.max_recording_bytes,
            settings.max_audio_seconds,
        )
        retention = timedelta(hours=settings.recording_retention_hours)
        transcriber = Transcriber(
            sessions,
            files,
            sealer,
            ready_topic,
            recordings,
            progress,
            retention,
            max_event_bytes=max_event_bytes(settings.kafka_max_message_bytes),
        )
        self._transcriber = transcriber
        if retention > timedelta(0):
            sweep = asyncio.create_task(self._sweep(), name="recording-sweep")
            parts.push_task("recording_sweep", sweep)
        broker = make_broker(settings)
        subscribe(
            broker,
            consumed,
            settings.group_id,
            transcriber.handle,
            DeadLetters(publisher, settings.service_name),
            # A recording is transcribed inside the handler; the settings check that
            # the longest one allowed fits in this interval.
            max_poll_interval_ms=settings.max_poll_interval_ms,
            max_partition_fetch_bytes=settings.kafka_max_message_bytes,
        )
        # A group of its own: members of one group with different subscriptions make
        # every join rebalance the other topic's consumer too.
        subscribe(
            broker,
            withdrawn,
            f"{settings.group_id}-consent",
            transcriber.handle_withdrawn,
            DeadLetters(publisher, settings.service_name),
            max_partition_fetch_bytes=settings.kafka_max_message_bytes,
        )
        parts.push("broker", broker.stop)
        await broker.start()

        service = TranscriptsService(sessions, progress, TokenVerifier(settings))
        name = transcripts_pb2.DESCRIPTOR.services_by_name["Transcripts"].full_name
        server, self._grpc_port = await start_grpc_server(
            settings.grpc_port,
            [(transcripts_pb2_grpc.add_TranscriptsServicer_to_server, service, name)],
        )
        parts.push("grpc", lambda: server.stop(grace=2))
        log.info("transcriber_started", extra={"grpc_port": self._grpc_port})

    async def stop(self) -> None:
        """Stops serving and consuming, then the recording sweep and the relay, then
        the connections. Events still queued in the outbox go out on the next start.
        Safe to call twice."""
        await self._parts.aclose()
        log.info("transcriber_stopped")

    async def _sweep(self) -> None:
        """Deletes audio kept past RECORDING_RETENTION_HOURS, once a minute."""
        while self._transcriber is not None:
            try:
                await self._transcriber.sweep_recordings()
            except Exception as exc:
                log.error(
                    "recording_sweep_failed", extra={"error_type": type(exc).__name__}
                )
            await asyncio.sleep(SWEEP_SECONDS)
