"""The NotesContext gRPC service: what other notewell services (the drafter, prompts)
may draw on when they write about a client for a clinician.

Callers present a service token and name the clinician they act for; only services
listed in NOTES_CONTEXT_ALLOWED_SERVICES are answered. Every note handed out is
recorded in the audit trail as read by "service:<name>".
"""

from __future__ import annotations

from typing import Any, TypeAlias

import grpc

from notewell.notes.v1 import notes_store_pb2_grpc
from notewell.notes.v1.note_pb2 import NoteFormat
from notewell.notes.v1.notes_store_pb2 import ClientContext, GetClientContextRequest
from notewell.notes_store import audit
from notewell.notes_store.audit import AuditTrail
from notewell.notes_store.errors import BadRequest, NoteUnreadable, TemplateNotFound
from notewell.notes_store.note_records import NoteRecords
from notewell.notes_store.notes_service import answers_refusals
from notewell.notes_store.preferences import PreferencesStore
from notewell.notes_store.profiles import ProfileStore
from notewell.notes_store.templates import TemplateStore
from notewell.platform.auth import SERVICE_SUBJECT_PREFIX, ServiceTokenVerifier
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"

METHOD = "NotesContext/GetClientContext"
# More earlier notes than any prompt has room for.
MOST_NOTES = 20
ID_CHARS = 200


class NotesContextService(notes_store_pb2_grpc.NotesContextServicer):
    def __init__(
        self,
        records: NoteRecords,
        trail: AuditTrail,
        templates: TemplateStore,
        preferences: PreferencesStore,
        profiles: ProfileStore,
        verifier: ServiceTokenVerifier,
    ) -> None:
        self._records = records
        self._trail = trail
        self._templates = templates
        self._preferences = preferences
        self._profiles = profiles
        self._verifier = verifier

    @answers_refusals
    async def GetClientContext(
        self, request: GetClientContextRequest, context: Context
    ) -> ClientContext:
        service = await self._verifier.service_of(context)
        clinician_id = _id(request.clinician_id, "clinician_id")
        client_id = _id(request.client_id, "client_id")
        if not 0 <= request.max_notes <= MOST_NOTES:
            raise BadRequest(f"max_notes must be between 0 and {MOST_NOTES}")

        answer = ClientContext()
        preferences = await self._preferences.of(clinician_id)
        answer.preferences.CopyFrom(preferences)
        answer.clinician.CopyFrom(await self._profiles.clinician(clinician_id))
        client = await self._profiles.client(clinician_id, client_id)
        if client is not None:
            answer.client.CopyFrom(client)
            answer.has_client = True
        if (
            preferences.format == NoteFormat.NOTE_FORMAT_CUSTOM
            and preferences.custom_template_id
        ):
            try:
                template = await self._templates.get(
                    clinician_id, preferences.custom_template_id
                )
            except (TemplateNotFound, NoteUnreadable):
                log.warning(
                    "custom_template_missing", extra={"clinician_id": clinician_id}
                )
            else:
                answer.custom_template.CopyFrom(template)
                answer.has_custom_template = True

        notes = await self._records.signed_record(
            clinician_id, client_id, request.max_notes, request.exclude_session_id
        )
        actor = SERVICE_SUBJECT_PREFIX + service
        for note in notes:
            await self._trail.record(
                actor, audit.READ, METHOD, note.note_id, note.version
            )
        answer.notes.extend(notes)

        log.info(
            "client_context_read",
            extra={
                "service": service,
                "clinician_id": clinician_id,
                "notes": len(notes),
                "has_client": answer.has_client,
            },
        )
        return answer


def _id(value: str, name: str) -> str:
    if not value.strip():
        raise BadRequest(f"{name} is required")
    if len(value) > ID_CHARS:
        raise BadRequest(f"{name} is longer than {ID_CHARS} characters")
    return value
