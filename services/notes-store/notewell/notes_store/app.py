"""Wires the notes store: MongoDB, the clinicians' data keys, the draft.created and
consent.withdrawn consumers, the outbox relay that publishes note.saved, the audit
relay that copies queued entries into the trail, the NotesStore gRPC service and,
when SERVICE_AUTH_SECRET is set, the internal NotesContext service."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from notewell.notes.v1.notes_store_pb2_grpc import (
    add_NotesContextServicer_to_server,
    add_NotesStoreServicer_to_server,
)
from notewell.notes_store.audit import AuditRelay, AuditTrail
from notewell.notes_store.consent_withdrawal import ConsentWithdrawal, Withdrawals
from notewell.notes_store.context_service import NotesContextService
from notewell.notes_store.draft_intake import DraftIntake
from notewell.notes_store.note_records import NoteRecords
from notewell.notes_store.note_saved import NoteSavedAnnouncer
from notewell.notes_store.notes_service import NotesStoreService
from notewell.notes_store.preferences import PreferencesStore
from notewell.notes_store.profiles import ProfileStore
from notewell.notes_store.settings import Settings
from notewell.notes_store.templates import TemplateStore
from notewell.platform import events
from notewell.platform.auth import ServiceTokenVerifier, TokenVerifier
from notewell.platform.clients import mongo_client
from notewell.platform.consumer import subscribe
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import Registration, start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    EventPublisher,
    ensure_topics,
    make_broker,
)
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger
from notewell.platform.outbox import OutboxRelay

log = get_logger(__name__)

COLLECTION = "notes"
AUDIT_COLLECTION = "audit"
DATA_KEYS_COLLECTION = "data_keys"
TEMPLATES_COLLECTION = "templates"
PREFERENCES_COLLECTION = "preferences"
CLINICIAN_PROFILES_COLLECTION = "clinician_profiles"
CLIENT_PROFILES_COLLECTION = "client_profiles"
WITHDRAWN_SESSIONS_COLLECTION = "withdrawn_sessions"
SERVICE_NAME = "notewell.notes.v1.NotesStore"
CONTEXT_SERVICE_NAME = "notewell.notes.v1.NotesContext"


class NotesStoreApp:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._mongo: AsyncMongoClient[dict[str, Any]] | None = None
        self._publisher: EventPublisher | None = None
        self._relay: OutboxRelay | None = None
        self._relay_task: asyncio.Task[None] | None = None
        self._audit_relay: AuditRelay | None = None
        self._audit_relay_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._broker: KafkaBroker | None = None
        self._server: grpc.aio.Server | None = None
        self._port = 0

    @property
    def grpc_port(self) -> int:
        return self._port

    async def start(self) -> None:
        settings = self._settings
        drafts_topic = settings.topic(events.DRAFT_CREATED)
        consent_topic = settings.topic(events.CONSENT_WITHDRAWN)
        saved_topic = settings.topic(events.NOTE_SAVED)
        if settings.kafka_create_topics:
            await ensure_topics(
                settings,
                [
                    drafts_topic,
                    events.dead_letter_topic(drafts_topic),
                    consent_topic,
                    events.dead_letter_topic(consent_topic),
                    saved_topic,
                ],
            )

        self._mongo = mongo_client(settings)
        database = self._mongo[settings.mongodb_database]
        collection = database[COLLECTION]
        master_key = master_key_from_settings(settings)
        sealer = Sealer(master_key)
        keyring = Keyring(
            database[DATA_KEYS_COLLECTION], master_key, settings.data_key_cache_seconds
        )
        await keyring.ensure_indexes()
        records = NoteRecords(collection, keyring)
        await records.ensure_indexes()
        trail = AuditTrail(database[AUDIT_COLLECTION])
        await trail.ensure_indexes()
        self._audit_relay = AuditRelay(collection, trail)
        await self._audit_relay.ensure_indexes()
        withdrawals = Withdrawals(database[WITHDRAWN_SESSIONS_COLLECTION], records)
        templates = TemplateStore(database[TEMPLATES_COLLECTION], keyring)
        await templates.ensure_indexes()
        preferences = PreferencesStore(database[PREFERENCES_COLLECTION], keyring)
        profiles = ProfileStore(
            database[CLINICIAN_PROFILES_COLLECTION],
            database[CLIENT_PROFILES_COLLECTION],
            keyring,
        )
        await profiles.ensure_indexes()

        self._publisher = EventPublisher(settings)
        await self._publisher.start()
        self._relay = OutboxRelay(collection, self._publisher)
        await self._relay.ensure_indexes()
        self._relay_task = asyncio.create_task(
            self._relay_after(settings.outbox_relay_start_delay_seconds),
            name="outbox-relay",
        )
        self._audit_relay_task = asyncio.create_task(
            self._audit_relay_after(settings.audit_relay_start_delay_seconds),
            name="audit-relay",
        )

        self._broker = make_broker(settings)
        dead_letters = DeadLetters(self._publisher, settings.service_name)
        subscribe(
            self._broker,
            drafts_topic,
            settings.group_id,
            DraftIntake(records, trail, sealer, withdrawals),
            dead_letters,
        )
        subscribe(
            self._broker,
            consent_topic,
            settings.group_id + "-consent",
            ConsentWithdrawal(withdrawals),
            dead_letters,
        )
        await self._broker.start()

        servicer = NotesStoreService(
            records,
            trail,
            templates,
            preferences,
            profiles,
            TokenVerifier(settings),
            NoteSavedAnnouncer(sealer, saved_topic),
        )
        registrations: list[Registration] = [
            (add_NotesStoreServicer_to_server, servicer, SERVICE_NAME)
        ]
        if settings.service_auth_secret is not None:
            context_servicer = NotesContextService(
                records,
                trail,
                templates,
                preferences,
                profiles,
                ServiceTokenVerifier(settings, settings.notes_context_callers()),
            )
            registrations.append(
                (
                    add_NotesContextServicer_to_server,
                    context_servicer,
                    CONTEXT_SERVICE_NAME,
                )
            )
        else:
            log.warning("notes_context_disabled", extra={"reason": "no_service_secret"})
        self._server, self._port = await start_grpc_server(
            settings.grpc_port, registrations
        )
        log.info("notes_store_started", extra={"grpc_port": self._port})

    async def _relay_after(self, delay_seconds: float) -> None:
        assert self._relay is not None
        if delay_seconds > 0:
            log.info("outbox_relay_delayed", extra={"seconds": delay_seconds})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay_seconds)
            if self._stopping.is_set():
                return
        await self._relay.run()

    async def _audit_relay_after(self, delay_seconds: float) -> None:
        assert self._audit_relay is not None
        if delay_seconds > 0:
            log.info("audit_relay_delayed", extra={"seconds": delay_seconds})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay_seconds)
            if self._stopping.is_set():
                return
        await self._audit_relay.run()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(grace=5)
            self._server = None
        if self._broker is not None:
            await self._broker.stop()
            self._broker = None
        if self._relay is not None and self._relay_task is not None:
            self._stopping.set()
            self._relay.stop()
            await self._relay_task
            self._relay, self._relay_task = None, None
        if self._audit_relay is not None and self._audit_relay_task is not None:
            self._stopping.set()
            self._audit_relay.stop()
            await self._audit_relay_task
            self._audit_relay, self._audit_relay_task = None, None
        if self._publisher is not None:
            await self._publisher.stop()
            self._publisher = None
        if self._mongo is not None:
            await self._mongo.close()
            self._mongo = None
        log.info("notes_store_stopped")
