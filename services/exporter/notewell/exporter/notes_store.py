"""Reading a note from notes-store on behalf of the calling clinician."""

from __future__ import annotations

import grpc

from notewell.notes.v1.note_pb2 import Note
from notewell.notes.v1.notes_store_pb2 import GetNoteRequest
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.platform.logs import get_logger

log = get_logger(__name__)

# What a notes-store failure means to the exporter's caller. Another clinician's note
# answers NOT_FOUND whichever way notes-store refused it.
_ANSWERS = {
    grpc.StatusCode.NOT_FOUND: (grpc.StatusCode.NOT_FOUND, "note not found"),
    grpc.StatusCode.PERMISSION_DENIED: (grpc.StatusCode.NOT_FOUND, "note not found"),
    grpc.StatusCode.UNAUTHENTICATED: (
        grpc.StatusCode.UNAUTHENTICATED,
        "notes store refused the bearer token",
    ),
    grpc.StatusCode.INVALID_ARGUMENT: (
        grpc.StatusCode.INVALID_ARGUMENT,
        "notes store refused the note id",
    ),
    grpc.StatusCode.UNAVAILABLE: (grpc.StatusCode.UNAVAILABLE, "notes store unavailable"),
    grpc.StatusCode.DEADLINE_EXCEEDED: (
        grpc.StatusCode.UNAVAILABLE,
        "notes store did not answer in time",
    ),
}
_OTHERWISE = (grpc.StatusCode.INTERNAL, "notes store failed")


class NoteUnavailable(Exception):
    """notes-store did not hand over the note; ``code`` and ``details`` are what the
    exporter's caller should be told (free of anything notes-store said)."""

    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code = code
        self.details = details


class NotesStoreClient:
    def __init__(self, address: str, timeout_seconds: float) -> None:
        self._channel = grpc.aio.insecure_channel(address)
        self._stub = NotesStoreStub(self._channel)
        self._timeout = timeout_seconds

    async def close(self) -> None:
        await self._channel.close()

    async def get_note(self, note_id: str, authorization: str) -> Note:
        """The note as notes-store gives it to the holder of ``authorization`` (the
        caller's own "authorization" metadata, so notes-store checks the owner)."""
        try:
            note: Note = await self._stub.GetNote(
                GetNoteRequest(note_id=note_id),
                metadata=(("authorization", authorization),),
                timeout=self._timeout,
            )
        except grpc.aio.AioRpcError as exc:
            code, details = _ANSWERS.get(exc.code(), _OTHERWISE)
            log.warning(
                "notes_store_get_note_failed",
                extra={"note_id": note_id, "status": exc.code().name},
            )
            raise NoteUnavailable(code, details) from None
        return note
