"""The Exporter gRPC service: a short-lived link to the PDF of one of the caller's
notes."""

from __future__ import annotations

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.exporter.exports import Exports, PsychotherapyNote, UnsafeId
from notewell.exporter.notes_store import NotesStoreClient, NoteUnavailable
from notewell.exporter.v1 import exporter_pb2, exporter_pb2_grpc
from notewell.platform.auth import TokenVerifier
from notewell.platform.logs import get_logger

log = get_logger(__name__)

SERVICE_NAME = exporter_pb2.DESCRIPTOR.services_by_name["Exporter"].full_name


class ExporterService(exporter_pb2_grpc.ExporterServicer):
    def __init__(
        self,
        verifier: TokenVerifier,
        notes_store: NotesStoreClient,
        exports: Exports,
        url_ttl_seconds: int,
    ) -> None:
        self._verifier = verifier
        self._notes_store = notes_store
        self._exports = exports
        self._ttl = url_ttl_seconds

    async def ExportNote(
        self, request: exporter_pb2.ExportNoteRequest, context: grpc.aio.ServicerContext
    ) -> exporter_pb2.ExportNoteResponse:
        clinician_id = await self._verifier.clinician_of(context)
        if not request.note_id:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "note_id is required")

        authorization = str(dict(context.invocation_metadata() or ())["authorization"])
        try:
            note = await self._notes_store.get_note(request.note_id, authorization)
        except NoteUnavailable as exc:
            await context.abort(exc.code, exc.details)

        # notes-store already checked the owner; checking again costs nothing and
        # keeps a misrouted answer from reaching another clinician.
        if note.clinician_id != clinician_id or note.note_id != request.note_id:
            await context.abort(grpc.StatusCode.NOT_FOUND, "note not found")

        try:
            export = await self._exports.export(
                note, include_psychotherapy=request.include_psychotherapy_note
            )
        except PsychotherapyNote:
            log.info("psychotherapy_note_export_refused", extra={"note_id": note.note_id})
            await context.abort(
                grpc.StatusCode.FAILED_PRECONDITION,
                "psychotherapy notes are exported only on explicit request",
            )
        except UnsafeId:
            log.error("note_not_exportable", extra={"note_id": request.note_id})
            await context.abort(grpc.StatusCode.INTERNAL, "note cannot be exported")

        link = self._exports.presign(export.object_key, self._ttl)
        expires_at = Timestamp()
        expires_at.FromDatetime(link.expires_at)
        log.info(
            "export_link_issued",
            extra={
                "note_id": note.note_id,
                "version": note.version,
                "clinician_id": clinician_id,
                "ttl_seconds": self._ttl,
                "rendered": export.rendered,
            },
        )
        return exporter_pb2.ExportNoteResponse(
            url=link.url, expires_at=expires_at, object_key=export.object_key
        )
