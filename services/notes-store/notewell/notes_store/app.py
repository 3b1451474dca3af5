"""Wires the notes store: MongoDB, the clinicians' data keys, the draft.created and
consent.withdrawn consumers, the outbox relay that publishes note.saved, the audit
relay that copies queued entries into the trail, the NotesStore gRPC service and,
when SERVICE_AUTH_SECRET is set, the internal NotesContext service."""

from __future__ import annotations

import asyncio
import contextlib

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
from notewell.platform.consumer import subscribe
from notewell.platform.crypto import Sealer, master_key_from_settings
from notewell.platform.grpc_server import Registration, start_grpc_server
from notewell.platform.kafka import (
    DeadLetters,
    ensure_topics,
    make_broker,
)
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger
from notewell.platform.outbox import OutboxRelay, PollingRelay
from notewell.platform.service import ShutdownStack, connect

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
        self._parts = ShutdownStack()
        self._stopping = asyncio.Event()
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

        parts = self._parts
        self._stopping.clear()
        mongo, publisher = await connect(settings, parts)
        database = mongo[settings.mongodb_database]
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
        audit_relay = AuditRelay(collection, trail)
        await audit_relay.ensure_indexes()
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

        relay = OutboxRelay(collection, publisher)
        await relay.ensure_indexes()
        relay_task = asyncio.create_task(
            self._run_after(
                relay, settings.outbox_relay_start_delay_seconds, "outbox_relay_delayed"
            ),
            name="outbox-relay",
        )
        audit_relay_task = asyncio.create_task(
            self._run_after(
                audit_relay,
                settings.audit_relay_start_delay_seconds,
                "audit_relay_delayed",
            ),
            name="audit-relay",
        )
        # Pushed last, run first: setting _stopping ends the relays' start delays.
        parts.push_task("audit_relay", audit_relay_task, audit_relay.stop)
        parts.push_task("outbox_relay", relay_task, relay.stop)
        parts.push("relay_delays", self._stopping.set)

        broker = make_broker(settings)
        dead_letters = DeadLetters(publisher, settings.service_name)
        subscribe(
            broker,
            drafts_topic,
            settings.group_id,
            DraftIntake(records, trail, sealer, withdrawals),
            dead_letters,
        )
        subscribe(
            broker,
            consent_topic,
            settings.group_id + "-consent",
            ConsentWithdrawal(withdrawals),
            dead_letters,
        )
        parts.push("broker", broker.stop)
        await broker.start()

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
        server, self._port = await start_grpc_server(settings.grpc_port, registrations)
        parts.push("grpc", lambda: server.stop(grace=5))
        log.info("notes_store_started", extra={"grpc_port": self._port})

    async def _run_after(
        self, relay: PollingRelay, delay_seconds: float, delayed_event: str
    ) -> None:
        """Runs ``relay`` after ``delay_seconds``, or not at all when the app stops
        first."""
        if delay_seconds > 0:
            log.info(delayed_event, extra={"seconds": delay_seconds})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay_seconds)
            if self._stopping.is_set():
                return
        await relay.run()

    async def stop(self) -> None:
        """Stops serving and consuming, then the outbox and audit relays, then the
        connections. Safe to call twice."""
        await self._parts.aclose()
        log.info("notes_store_stopped")
