"""Exporter.ExportNote over gRPC: a short-lived link to the caller's own note only.

notes-store is another service; here a small in-process stand-in answers GetNote with
the same owner check (another clinician's note is NOT_FOUND).
"""

from __future__ import annotations

import asyncio
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from notewell.exporter.app import ExporterApp
from notewell.exporter.exports import COLLECTION
from notewell.exporter.settings import Settings
from notewell.exporter.v1 import exporter_pb2, exporter_pb2_grpc
from notewell.notes.v1 import notes_store_pb2, notes_store_pb2_grpc
from notewell.notes.v1.note_pb2 import Note, NoteType
from notewell.platform.auth import TokenVerifier, bearer, mint_token
from notewell.platform.clients import mongo_client, s3_client
from notewell.platform.grpc_server import start_grpc_server

pytestmark = pytest.mark.asyncio

NOTES_STORE = notes_store_pb2.DESCRIPTOR.services_by_name["NotesStore"].full_name


class FakeNotesStore(notes_store_pb2_grpc.NotesStoreServicer):
    """GetNote with notes-store's owner check; ``refuse_tokens`` makes it reject every
    token, as a notes-store with another gateway key would."""

    def __init__(self, verifier: TokenVerifier) -> None:
        self.notes: dict[str, Note] = {}
        self.refuse_tokens = False
        self.calls = 0
        self._verifier = verifier

    async def GetNote(self, request, context):
        self.calls += 1
        if self.refuse_tokens:
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, "invalid bearer token")
        clinician_id = await self._verifier.clinician_of(context)
        note = self.notes.get(request.note_id)
        if note is None or note.clinician_id != clinician_id:
            await context.abort(grpc.StatusCode.NOT_FOUND, "note not found")
        return note


@pytest.fixture
async def notes_store(settings: Settings) -> AsyncIterator[tuple[FakeNotesStore, int]]:
    store = FakeNotesStore(TokenVerifier(settings))
    server, port = await start_grpc_server(
        0,
        [(notes_store_pb2_grpc.add_NotesStoreServicer_to_server, store, NOTES_STORE)],
        host="127.0.0.1",
    )
    try:
        yield store, port
    finally:
        await server.stop(grace=None)


async def _start_exporter(settings: Settings, port: int, **overrides: str) -> ExporterApp:
    configured = settings.model_copy(
        update={"notes_store_address": f"127.0.0.1:{port}", **overrides}
    )
    app = ExporterApp(configured)
    try:
        await app.start()
    except BaseException:
        await app.stop()
        raise
    return app


@pytest.fixture
async def exporter_stub(
    settings: Settings, notes_store
) -> AsyncIterator[exporter_pb2_grpc.ExporterStub]:
    _, port = notes_store
    app = await _start_exporter(settings, port)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}")
    try:
        yield exporter_pb2_grpc.ExporterStub(channel)
    finally:
        await channel.close()
        await app.stop()


def _download(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        body: bytes = response.read()
    return body


async def test_owner_gets_a_link_that_downloads_the_pdf(
    settings, notes_store, exporter_stub, make_note, pdf, phi, logged
):
    store, _ = notes_store
    note = make_note(note_id="note-g1", clinician_id="clin-1", version=5, signed=False)
    store.notes[note.note_id] = note
    token = mint_token(settings, "clin-1")

    before = datetime.now(UTC).replace(microsecond=0)
    reply = await exporter_stub.ExportNote(
        exporter_pb2.ExportNoteRequest(note_id="note-g1"), metadata=bearer(token)
    )

    assert reply.object_key == "notes/clin-1/note-g1/v5.pdf"
    expires_at = reply.expires_at.ToDatetime(tzinfo=UTC)
    ttl = timedelta(seconds=settings.export_url_ttl_seconds)
    assert before + ttl <= expires_at <= datetime.now(UTC) + ttl
    assert "X-Amz-Expires=300" in reply.url
    body = await asyncio.to_thread(_download, reply.url)
    assert body.startswith(b"%PDF-")
    text = pdf.flat_text(body)
    assert "DRAFT – not part of the record" in text
    assert all(section.text in text for section in note.sections)

    # A second export of the same version reuses the stored PDF.
    s3 = s3_client(settings)
    head = await asyncio.to_thread(
        s3.head_object, Bucket=settings.export_bucket, Key=reply.object_key
    )
    again = await exporter_stub.ExportNote(
        exporter_pb2.ExportNoteRequest(note_id="note-g1"), metadata=bearer(token)
    )
    assert again.object_key == reply.object_key
    assert again.url != ""
    head_again = await asyncio.to_thread(
        s3.head_object, Bucket=settings.export_bucket, Key=reply.object_key
    )
    assert head_again["ETag"] == head["ETag"]
    assert head_again["LastModified"] == head["LastModified"]
    client = mongo_client(settings)
    try:
        exports = client[settings.mongodb_database][COLLECTION]
        assert await exports.count_documents({}) == 1
    finally:
        await client.close()

    logs = logged()
    assert "export_link_issued" in logs
    assert "X-Amz-Signature" not in logs
    for phrase in phi:
        assert phrase not in logs


async def test_link_stops_working_once_expired(settings, notes_store, make_note):
    store, port = notes_store
    store.notes["note-g2"] = make_note(note_id="note-g2", clinician_id="clin-1")
    app = await _start_exporter(settings, port, export_url_ttl_seconds=1)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            reply = await exporter_pb2_grpc.ExporterStub(channel).ExportNote(
                exporter_pb2.ExportNoteRequest(note_id="note-g2"),
                metadata=bearer(mint_token(settings, "clin-1")),
            )
    finally:
        await app.stop()
    assert "X-Amz-Expires=1&" in reply.url or reply.url.endswith("X-Amz-Expires=1")

    await asyncio.sleep(2)

    with pytest.raises(urllib.error.HTTPError) as refused:
        await asyncio.to_thread(_download, reply.url)
    assert refused.value.code == 403


async def test_another_clinicians_note_is_not_found(
    settings, notes_store, exporter_stub, make_note
):
    store, _ = notes_store
    store.notes["note-g3"] = make_note(note_id="note-g3", clinician_id="clin-1")

    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await exporter_stub.ExportNote(
            exporter_pb2.ExportNoteRequest(note_id="note-g3"),
            metadata=bearer(mint_token(settings, "clin-2")),
        )

    assert failed.value.code() == grpc.StatusCode.NOT_FOUND
    assert store.calls == 1
    s3 = s3_client(settings)
    listing = await asyncio.to_thread(s3.list_objects_v2, Bucket=settings.export_bucket)
    assert listing.get("KeyCount", 0) == 0


async def test_callers_without_a_valid_token_are_unauthenticated(
    settings, notes_store, exporter_stub, make_note
):
    store, _ = notes_store
    store.notes["note-g4"] = make_note(note_id="note-g4", clinician_id="clin-1")
    request = exporter_pb2.ExportNoteRequest(note_id="note-g4")
    forged = mint_token(
        settings.model_copy(update={"auth_hs256_secret": "not-the-gateway-" + "x" * 32}),
        "clin-1",
    )

    for metadata in ((), bearer(forged)):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await exporter_stub.ExportNote(request, metadata=metadata)
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert store.calls == 0

    # notes-store refusing the forwarded token stays UNAUTHENTICATED.
    store.refuse_tokens = True
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await exporter_stub.ExportNote(
            request, metadata=bearer(mint_token(settings, "clin-1"))
        )
    assert refused.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert store.calls == 1


async def test_notes_store_down_is_unavailable(settings, make_note):
    # Nothing listens on the notes-store address.
    app = await _start_exporter(settings, 1, notes_store_timeout_seconds=2.0)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await exporter_pb2_grpc.ExporterStub(channel).ExportNote(
                    exporter_pb2.ExportNoteRequest(note_id="note-g5"),
                    metadata=bearer(mint_token(settings, "clin-1")),
                )
    finally:
        await app.stop()
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_server_keeps_answering_while_a_long_note_renders(
    settings, notes_store, make_note
):
    store, port = notes_store
    paragraph = "The client went through the week's sleep log entry by entry. " * 40
    # About 90 pages: seconds of layout even on a fast, idle machine.
    sections = [(f"Section {n}", "\n\n".join([paragraph] * 3)) for n in range(1, 49)]
    store.notes["note-long"] = make_note(
        note_id="note-long", clinician_id="clin-1", sections=sections
    )
    app = await _start_exporter(settings, port)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            export = asyncio.ensure_future(
                exporter_pb2_grpc.ExporterStub(channel).ExportNote(
                    exporter_pb2.ExportNoteRequest(note_id="note-long"),
                    metadata=bearer(mint_token(settings, "clin-1")),
                )
            )
            health = health_pb2_grpc.HealthStub(channel)
            started = time.monotonic()
            waits: list[float] = []
            while not export.done():
                asked = time.monotonic()
                await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=10)
                waits.append(time.monotonic() - asked)
                await asyncio.sleep(0.05)
            reply = await export
            took = time.monotonic() - started
    finally:
        await app.stop()

    assert reply.object_key == "notes/clin-1/note-long/v3.pdf"
    # The render takes seconds; a blocked event loop would hold a health check as long.
    assert took > 1.5
    assert len(waits) >= 10
    assert max(waits) < 0.75


async def test_psychotherapy_note_is_not_exported_without_an_explicit_request(
    settings, notes_store, exporter_stub, make_note
):
    store, _ = notes_store
    store.notes["note-p1"] = make_note(
        note_id="note-p1",
        clinician_id="clin-1",
        note_type=NoteType.NOTE_TYPE_PSYCHOTHERAPY,
    )

    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await exporter_stub.ExportNote(
            exporter_pb2.ExportNoteRequest(note_id="note-p1"),
            metadata=bearer(mint_token(settings, "clin-1")),
        )

    assert failed.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    s3 = s3_client(settings)
    listing = await asyncio.to_thread(s3.list_objects_v2, Bucket=settings.export_bucket)
    assert listing.get("KeyCount", 0) == 0

    # Asked for explicitly, it is exported.
    reply = await exporter_stub.ExportNote(
        exporter_pb2.ExportNoteRequest(
            note_id="note-p1", include_psychotherapy_note=True
        ),
        metadata=bearer(mint_token(settings, "clin-1")),
    )
    assert reply.object_key.startswith("notes/clin-1/note-p1/")


async def test_links_are_signed_for_the_public_endpoint_when_one_is_set(
    settings, notes_store, make_note, pdf
):
    store, port = notes_store
    store.notes["note-g6"] = make_note(note_id="note-g6", clinician_id="clin-1")
    internal = urllib.parse.urlsplit(settings.s3_endpoint_url)
    # The same server under another name, as a browser outside the cluster sees it.
    public = f"http://localhost:{internal.port}"
    app = await _start_exporter(settings, port, s3_public_endpoint_url=public)
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            reply = await exporter_pb2_grpc.ExporterStub(channel).ExportNote(
                exporter_pb2.ExportNoteRequest(note_id="note-g6"),
                metadata=bearer(mint_token(settings, "clin-1")),
            )
    finally:
        await app.stop()

    assert reply.url.startswith(f"{public}/{settings.export_bucket}/notes/clin-1/")
    assert internal.netloc not in reply.url
    body = await asyncio.to_thread(_download, reply.url)
    assert "Electronically signed by" in pdf.flat_text(body)


async def test_a_draft_is_rendered_again_when_its_header_changes(
    settings, notes_store, exporter_stub, make_note, pdf
):
    store, _ = notes_store
    draft = make_note(note_id="note-g7", clinician_id="clin-1", signed=False)
    draft.header.client_name = "Marta Quill"
    store.notes["note-g7"] = draft
    request = exporter_pb2.ExportNoteRequest(note_id="note-g7")
    metadata = bearer(mint_token(settings, "clin-1"))

    first = await exporter_stub.ExportNote(request, metadata=metadata)
    # The client's profile is corrected; the draft keeps its version.
    draft.header.client_name = "Marta Quill-Ferreira"
    second = await exporter_stub.ExportNote(request, metadata=metadata)

    assert first.object_key == second.object_key
    text = pdf.flat_text(await asyncio.to_thread(_download, second.url))
    assert "Client Marta Quill-Ferreira" in text
    s3 = s3_client(settings)
    head = await asyncio.to_thread(
        s3.head_object, Bucket=settings.export_bucket, Key=second.object_key
    )
    third = await exporter_stub.ExportNote(request, metadata=metadata)
    head_again = await asyncio.to_thread(
        s3.head_object, Bucket=settings.export_bucket, Key=third.object_key
    )
    assert head_again["ETag"] == head["ETag"]
