"""The NotesStore gRPC service: a clinician lists, reads, writes, signs and amends their
notes, and keeps their templates, note preferences and profiles (their own and their
clients').

A draft is answered with a record header made from the current profiles; signing
keeps that header, and the signer's name and credentials, in the note for good.

Every call names its clinician by bearer token; a note, client or template of anyone
else is answered exactly like one that does not exist. Every read and change of a note
is recorded in the audit trail; a change's entry in the same write as the change.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

import grpc

from notewell.notes.v1 import notes_store_pb2_grpc
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    Note,
    NoteFormat,
    NotePreferences,
    NoteSection,
    NoteStatus,
    NoteTemplate,
    NoteType,
    RecordHeader,
)
from notewell.notes.v1.notes_store_pb2 import (
    AddAddendumRequest,
    CreateNoteRequest,
    DiscardNoteRequest,
    DiscardNoteResponse,
    GetClientProfileRequest,
    GetClinicianProfileRequest,
    GetNoteRequest,
    GetPreferencesRequest,
    ListAuditEventsRequest,
    ListAuditEventsResponse,
    ListClientsRequest,
    ListClientsResponse,
    ListNotesRequest,
    ListNotesResponse,
    ListTemplatesRequest,
    ListTemplatesResponse,
    SaveNoteRequest,
    SaveTemplateRequest,
    UpdateClientProfileRequest,
    UpdateClinicianProfileRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)
from notewell.notes_store import audit
from notewell.notes_store.audit import AuditTrail
from notewell.notes_store.errors import (
    BadRequest,
    ClientProfileNotFound,
    NoteNotFound,
    NoteNotSigned,
    NoteRefused,
    NoteSigned,
    NoteUnreadable,
    StaleVersion,
    TemplateNotFound,
)
from notewell.notes_store.note_changes import (
    NewNoteDetails,
    amended,
    check_amendable,
    check_changeable,
    new_note,
    revised,
    signed,
)
from notewell.notes_store.note_records import NoteRecords
from notewell.notes_store.note_saved import NoteSavedAnnouncer
from notewell.notes_store.preferences import PreferencesStore
from notewell.notes_store.profiles import (
    ProfileStore,
    check_client_profile,
    check_clinician_profile,
    record_header,
)
from notewell.notes_store.templates import TemplateStore
from notewell.platform.auth import TokenVerifier
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
R = TypeVar("R")
Q = TypeVar("Q")
S = TypeVar("S")

STATUS_OF: dict[type[NoteRefused], grpc.StatusCode] = {
    BadRequest: grpc.StatusCode.INVALID_ARGUMENT,
    ClientProfileNotFound: grpc.StatusCode.NOT_FOUND,
    NoteNotFound: grpc.StatusCode.NOT_FOUND,
    TemplateNotFound: grpc.StatusCode.NOT_FOUND,
    NoteSigned: grpc.StatusCode.FAILED_PRECONDITION,
    NoteNotSigned: grpc.StatusCode.FAILED_PRECONDITION,
    NoteUnreadable: grpc.StatusCode.FAILED_PRECONDITION,
    StaleVersion: grpc.StatusCode.ABORTED,
}
FORMAT_NAMES = {
    NoteFormat.NOTE_FORMAT_SOAP: "SOAP",
    NoteFormat.NOTE_FORMAT_DAP: "DAP",
    NoteFormat.NOTE_FORMAT_BIRP: "BIRP",
    NoteFormat.NOTE_FORMAT_GIRP: "GIRP",
    NoteFormat.NOTE_FORMAT_PIE: "PIE",
    NoteFormat.NOTE_FORMAT_NARRATIVE: "narrative",
    NoteFormat.NOTE_FORMAT_CUSTOM: "custom",
}
MAX_TEXT_CHARS = 100_000


def answers_refusals(
    method: Callable[[S, Q, Context], Awaitable[R]],
) -> Callable[[S, Q, Context], Awaitable[R]]:
    """Turns refusals into their status codes, and any other failure into a bare
    INTERNAL, since an exception's own message may quote what caused it."""

    @functools.wraps(method)
    async def call(self: S, request: Q, context: Context) -> R:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except NoteRefused as refusal:
            await context.abort(STATUS_OF[type(refusal)], str(refusal))
        except Exception as exc:
            log.error(
                "notes_call_failed",
                extra={"method": method.__name__, "error_type": type(exc).__name__},
            )
            await context.abort(grpc.StatusCode.INTERNAL, "internal error")
        raise AssertionError("unreachable")

    return call


def _method(name: str) -> str:
    return "NotesStore/" + name


class NotesStoreService(notes_store_pb2_grpc.NotesStoreServicer):
    def __init__(
        self,
        records: NoteRecords,
        trail: AuditTrail,
        templates: TemplateStore,
        preferences: PreferencesStore,
        profiles: ProfileStore,
        verifier: TokenVerifier,
        announcer: NoteSavedAnnouncer,
    ) -> None:
        self._records = records
        self._trail = trail
        self._templates = templates
        self._preferences = preferences
        self._profiles = profiles
        self._verifier = verifier
        self._announcer = announcer

    @answers_refusals
    async def ListClients(
        self, request: ListClientsRequest, context: Context
    ) -> ListClientsResponse:
        clinician_id = await self._verifier.clinician_of(context)
        return ListClientsResponse(clients=await self._records.clients(clinician_id))

    @answers_refusals
    async def ListNotes(
        self, request: ListNotesRequest, context: Context
    ) -> ListNotesResponse:
        clinician_id = await self._verifier.clinician_of(context)
        client_id = _required(request.client_id, "client_id")
        notes = await self._records.for_client(
            clinician_id, client_id, request.include_psychotherapy_notes
        )
        await self._trail.record_listing(
            clinician_id, _method("ListNotes"), [(n.note_id, n.version) for n in notes]
        )
        if any(n.status == NoteStatus.NOTE_STATUS_DRAFT for n in notes):
            header = await self._profiles.header(clinician_id, client_id)
            for note in notes:
                _head_draft(note, header)
        return ListNotesResponse(notes=notes)

    @answers_refusals
    async def GetNote(self, request: GetNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        note = await self._records.load(note_id, clinician_id)
        await self._trail.record(
            clinician_id, audit.READ, _method("GetNote"), note_id, note.version
        )
        return await self._with_header(note)

    @answers_refusals
    async def CreateNote(self, request: CreateNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        client_id = _required(request.client_id, "client_id")
        _limit(request.title, "title")

        template: NoteTemplate | None = None
        note_type = request.note_type or NoteType.NOTE_TYPE_PROGRESS
        if request.template_id:
            template = await self._templates.get(clinician_id, request.template_id)
            note_type = template.note_type or NoteType.NOTE_TYPE_PROGRESS
        note_format = request.format
        if not note_format:
            preferred = await self._preferences.of(clinician_id)
            note_format = FORMAT_NAMES.get(preferred.format, "SOAP")

        now = datetime.now(UTC)
        served = now
        if request.HasField("date_of_service"):
            served = request.date_of_service.ToDatetime(tzinfo=UTC)
        details = NewNoteDetails(
            title=request.title,
            format=note_format,
            session_id=request.session_id,
            date_of_service=served,
            now=now,
        )
        note = new_note(clinician_id, client_id, note_type, template, details)
        entry = audit.queued(
            clinician_id, audit.CREATED, _method("CreateNote"), note.note_id, 1
        )
        await self._records.add(note, entry)
        log.info("note_created", extra={"note_id": note.note_id})
        return await self._with_header(note)

    @answers_refusals
    async def UpdateNote(self, request: UpdateNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)
        _limit(request.title, "title")
        _check_sections(request.sections)

        note = await self._records.load(note_id, clinician_id)
        check_changeable(note, base_version)
        after = revised(note, request.title, request.sections, datetime.now(UTC))
        entry = audit.queued(
            clinician_id, audit.CHANGED, _method("UpdateNote"), note_id, after.version
        )
        stored = await self._records.replace(note, after, check_changeable, entry)

        log.info("note_updated", extra={"note_id": note_id, "version": stored.version})
        return await self._with_header(stored)

    @answers_refusals
    async def SaveNote(self, request: SaveNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)

        note = await self._records.load(note_id, clinician_id)
        check_changeable(note, base_version)
        clinician = await self._profiles.clinician(clinician_id)
        client = await self._profiles.client(clinician_id, note.client_id)
        now = datetime.now(UTC)
        after = signed(
            note, clinician_id, now, record_header(clinician, client), clinician
        )
        outbox = await self._announcer.outbox(after, now)
        entry = audit.queued(
            clinician_id, audit.SIGNED, _method("SaveNote"), note_id, after.version
        )
        stored = await self._records.replace(note, after, check_changeable, entry, outbox)

        log.info(
            "note_signed",
            extra={
                "note_id": note_id,
                "session_id": stored.session_id,
                "version": stored.version,
            },
        )
        return stored

    @answers_refusals
    async def AddAddendum(self, request: AddAddendumRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)
        _required(request.text, "text")
        _limit(request.text, "text")

        note = await self._records.load(note_id, clinician_id)
        check_amendable(note, base_version)
        now = datetime.now(UTC)
        signer = await self._profiles.clinician(clinician_id)
        after = amended(note, clinician_id, request.text, now, signer)
        outbox = await self._announcer.outbox(after, now)
        entry = audit.queued(
            clinician_id,
            audit.ADDENDUM_ADDED,
            _method("AddAddendum"),
            note_id,
            after.version,
        )
        stored = await self._records.replace(note, after, check_amendable, entry, outbox)

        log.info("addendum_added", extra={"note_id": note_id, "version": stored.version})
        return stored

    @answers_refusals
    async def DiscardNote(
        self, request: DiscardNoteRequest, context: Context
    ) -> DiscardNoteResponse:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)

        note = await self._records.load(note_id, clinician_id)
        check_changeable(note, base_version)
        entry = audit.queued(
            clinician_id,
            audit.DISCARDED,
            _method("DiscardNote"),
            note_id,
            note.version + 1,
        )
        await self._records.discard(note, check_changeable, datetime.now(UTC), entry)

        log.info("note_discarded", extra={"note_id": note_id})
        return DiscardNoteResponse(note_id=note_id)

    @answers_refusals
    async def GetPreferences(
        self, request: GetPreferencesRequest, context: Context
    ) -> NotePreferences:
        clinician_id = await self._verifier.clinician_of(context)
        return await self._preferences.of(clinician_id)

    @answers_refusals
    async def UpdatePreferences(
        self, request: UpdatePreferencesRequest, context: Context
    ) -> NotePreferences:
        clinician_id = await self._verifier.clinician_of(context)
        preferences = request.preferences
        for name in ("clinician_reference", "client_reference", "client_pronouns"):
            _limit(getattr(preferences, name), name, 200)
        custom = preferences.format == NoteFormat.NOTE_FORMAT_CUSTOM
        if custom != bool(preferences.custom_template_id):
            raise BadRequest("custom_template_id goes with format CUSTOM, and only it")
        if custom:
            await self._templates.get(clinician_id, preferences.custom_template_id)

        await self._preferences.replace(clinician_id, preferences)
        log.info("preferences_updated", extra={"clinician_id": clinician_id})
        return preferences

    @answers_refusals
    async def ListTemplates(
        self, request: ListTemplatesRequest, context: Context
    ) -> ListTemplatesResponse:
        clinician_id = await self._verifier.clinician_of(context)
        return ListTemplatesResponse(templates=await self._templates.all_of(clinician_id))

    @answers_refusals
    async def SaveTemplate(
        self, request: SaveTemplateRequest, context: Context
    ) -> NoteTemplate:
        clinician_id = await self._verifier.clinician_of(context)
        template = request.template
        _required(template.name, "template.name")
        if not template.headings:
            raise BadRequest("a template needs at least one heading")
        seen: set[str] = set()
        for index, heading in enumerate(template.headings):
            if not heading.key.strip() or heading.key in seen:
                raise BadRequest(f"heading {index} needs a key of its own")
            seen.add(heading.key)
            _limit(heading.instruction, f"heading {index} instruction", 5_000)

        stored = await self._templates.save(clinician_id, template)
        log.info("template_saved", extra={"template_id": stored.template_id})
        return stored

    @answers_refusals
    async def ListAuditEvents(
        self, request: ListAuditEventsRequest, context: Context
    ) -> ListAuditEventsResponse:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        # The note's queued entries are read first: one copied meanwhile is then
        # found in the audit collection.
        pending = await self._records.pending_audit(note_id, clinician_id)
        if pending is None:
            raise NoteNotFound()
        events = await self._trail.of_note(note_id, pending)
        return ListAuditEventsResponse(events=events)

    @answers_refusals
    async def GetClinicianProfile(
        self, request: GetClinicianProfileRequest, context: Context
    ) -> ClinicianProfile:
        clinician_id = await self._verifier.clinician_of(context)
        return await self._profiles.clinician(clinician_id)

    @answers_refusals
    async def UpdateClinicianProfile(
        self, request: UpdateClinicianProfileRequest, context: Context
    ) -> ClinicianProfile:
        clinician_id = await self._verifier.clinician_of(context)
        check_clinician_profile(request.profile)

        await self._profiles.replace_clinician(clinician_id, request.profile)
        log.info("clinician_profile_updated", extra={"clinician_id": clinician_id})
        return request.profile

    @answers_refusals
    async def GetClientProfile(
        self, request: GetClientProfileRequest, context: Context
    ) -> ClientProfile:
        clinician_id = await self._verifier.clinician_of(context)
        client_id = _required(request.client_id, "client_id")
        profile = await self._profiles.client(clinician_id, client_id)
        if profile is None:
            raise ClientProfileNotFound()
        return profile

    @answers_refusals
    async def UpdateClientProfile(
        self, request: UpdateClientProfileRequest, context: Context
    ) -> ClientProfile:
        clinician_id = await self._verifier.clinician_of(context)
        check_client_profile(request.profile, datetime.now(UTC).date())

        await self._profiles.replace_client(clinician_id, request.profile)
        log.info("client_profile_updated", extra={"clinician_id": clinician_id})
        return request.profile

    async def _with_header(self, note: Note) -> Note:
        """``note`` as answered: a draft gets the header the current profiles make."""
        if note.status == NoteStatus.NOTE_STATUS_DRAFT:
            header = await self._profiles.header(note.clinician_id, note.client_id)
            _head_draft(note, header)
        return note


def _head_draft(note: Note, header: RecordHeader) -> None:
    # Only drafts: a signed note answers with the header it was signed with. With no
    # profiles recorded the header stays unset, as in the stored draft.
    if note.status == NoteStatus.NOTE_STATUS_DRAFT and header.ByteSize():
        note.header.CopyFrom(header)


def _required(value: str, name: str) -> str:
    if not value.strip():
        raise BadRequest(f"{name} is required")
    return value


def _limit(value: str, name: str, most: int = MAX_TEXT_CHARS) -> None:
    if len(value) > most:
        raise BadRequest(f"{name} is longer than {most} characters")


def _base_version(value: int) -> int:
    if value < 1:
        raise BadRequest("base_version must be at least 1")
    return value


def _check_sections(sections: Sequence[NoteSection]) -> None:
    # Keys are the format's machine names; any key is accepted, but each only once.
    seen: set[str] = set()
    for index, section in enumerate(sections):
        if not section.key.strip():
            raise BadRequest(f"section {index} has no key")
        if section.key in seen:
            raise BadRequest(f"section {index} repeats an earlier section's key")
        seen.add(section.key)
        _limit(section.text, f"section {index} text")
