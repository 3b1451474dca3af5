"""The NotesStore gRPC service: a clinician lists, reads, edits and signs their notes.

Every call names its clinician by bearer token; a note or client of anyone else is
answered exactly like one that does not exist.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeAlias, TypeVar

import grpc
from notewell.notes.v1 import notes_store_pb2_grpc
from notewell.notes.v1.note_pb2 import Note, NoteSection
from notewell.notes.v1.notes_store_pb2 import (
    GetNoteRequest,
    ListNotesRequest,
    ListNotesResponse,
    SaveNoteRequest,
    UpdateNoteRequest,
)
from notewell.notes_store.errors import (
    BadRequest,
    NoteNotFound,
    NoteRefused,
    NoteSigned,
    StaleVersion,
)
from notewell.notes_store.note_changes import check_changeable, revised, signed
from notewell.notes_store.note_records import NoteRecords
from notewell.notes_store.note_saved import note_saved_outbox
from notewell.platform.auth import TokenVerifier
from notewell.platform.crypto import Sealer
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
R = TypeVar("R")
Q = TypeVar("Q")
S = TypeVar("S", bound="NotesStoreService")

STATUS_OF: dict[type[NoteRefused], grpc.StatusCode] = {
    BadRequest: grpc.StatusCode.INVALID_ARGUMENT,
    NoteNotFound: grpc.StatusCode.NOT_FOUND,
    NoteSigned: grpc.StatusCode.FAILED_PRECONDITION,
    StaleVersion: grpc.StatusCode.ABORTED,
}


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


class NotesStoreService(notes_store_pb2_grpc.NotesStoreServicer):
    def __init__(
        self,
        records: NoteRecords,
        verifier: TokenVerifier,
        sealer: Sealer,
        note_saved_topic: str,
    ) -> None:
        self._records = records
        self._verifier = verifier
        self._sealer = sealer
        self._note_saved_topic = note_saved_topic

    @answers_refusals
    async def ListNotes(
        self, request: ListNotesRequest, context: Context
    ) -> ListNotesResponse:
        clinician_id = await self._verifier.clinician_of(context)
        client_id = _required(request.client_id, "client_id")
        notes = await self._records.for_client(clinician_id, client_id)
        return ListNotesResponse(notes=notes)

    @answers_refusals
    async def GetNote(self, request: GetNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        return await self._records.load(note_id, clinician_id)

    @answers_refusals
    async def UpdateNote(self, request: UpdateNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)
        _check_sections(request.sections)

        note = await self._records.load(note_id, clinician_id)
        check_changeable(note, base_version)
        after = revised(note, request.title, request.sections, datetime.now(UTC))
        stored = await self._records.replace(note, after)

        log.info("note_updated", extra={"note_id": note_id, "version": stored.version})
        return stored

    @answers_refusals
    async def SaveNote(self, request: SaveNoteRequest, context: Context) -> Note:
        clinician_id = await self._verifier.clinician_of(context)
        note_id = _required(request.note_id, "note_id")
        base_version = _base_version(request.base_version)

        note = await self._records.load(note_id, clinician_id)
        check_changeable(note, base_version)
        now = datetime.now(UTC)
        after = signed(note, clinician_id, now)
        outbox = await asyncio.to_thread(
            note_saved_outbox, self._sealer, self._note_saved_topic, after, now
        )
        stored = await self._records.replace(note, after, outbox)

        log.info(
            "note_signed",
            extra={
                "note_id": note_id,
                "session_id": stored.session_id,
                "version": stored.version,
            },
        )
        return stored


def _required(value: str, name: str) -> str:
    if not value.strip():
        raise BadRequest(f"{name} is required")
    return value


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
