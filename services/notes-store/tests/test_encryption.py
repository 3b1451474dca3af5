"""Envelope encryption with a data key per clinician: re-wrapping under a new master key
and crypto-shredding, through the real commands."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import grpc
import pytest

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import Note, NotePreferences
from notewell.notes.v1.notes_store_pb2 import (
    CreateNoteRequest,
    GetNoteRequest,
    GetPreferencesRequest,
    ListClientsRequest,
    ListNotesRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings
from notewell.platform.crypto import LocalMasterKey

pytestmark = pytest.mark.asyncio


@pytest.fixture
def settings(service_env: dict[str, str]) -> Settings:
    # Without the in-memory key cache a shredded key is gone for the running store at
    # once, rather than within a minute.
    # A consumer group of its own: the store started again in the re-wrap test joins
    # it as well.
    return Settings(
        **{
            **service_env,
            "DATA_KEY_CACHE_SECONDS": "0",
            "KAFKA_GROUP_ID": "notes-store-" + uuid.uuid4().hex[:8],
        }
    )


def run_command(settings: Settings, module: str, *args: str) -> int:
    env = {
        **os.environ,
        "MONGODB_URI": settings.mongodb_uri,
        "MONGODB_DATABASE": settings.mongodb_database,
        "LOCAL_MASTER_KEY_FILE": settings.local_master_key_file,
    }
    env.pop("KMS_KEY_ID", None)
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        env=env,
        capture_output=True,
        timeout=60,
        check=False,
    )
    return done.returncode


async def write_notes(harness, clinician_id: str, count: int = 2) -> list[Note]:
    return [
        await harness.notes.CreateNote(
            CreateNoteRequest(
                client_id="client-7",
                template_id="progress-note",
                title=harness.SECRET_TITLE,
            ),
            metadata=harness.as_clinician(clinician_id),
        )
        for _ in range(count)
    ]


async def test_each_clinician_has_a_data_key_of_their_own(harness) -> None:
    await write_notes(harness, "clin-1")
    await write_notes(harness, "clin-2")

    keys = {doc["owner_id"]: doc async for doc in harness.database["data_keys"].find({})}
    assert set(keys) == {"clin-1", "clin-2"}
    master = LocalMasterKey(harness.settings.local_master_key_file)
    for doc in keys.values():
        assert doc["master_key_id"] == master.key_id
        assert len(master.unwrap(doc["wrapped"], doc["master_key_id"])) == 32
    async for doc in harness.collection.find({}):
        box = SealedBox.FromString(doc["sealed_note"])
        assert box.key_id == keys[doc["clinician_id"]]["_id"]


async def test_rewrapping_moves_keys_to_a_new_master_without_touching_notes(
    harness, settings: Settings, tmp_path: Path
) -> None:
    written = await write_notes(harness, "clin-1") + await write_notes(harness, "clin-2")
    bodies = {doc["_id"]: doc["sealed_note"] async for doc in harness.collection.find({})}
    new_key_file = tmp_path / "new-master.key"

    code = run_command(
        settings,
        "notewell.notes_store.rewrap",
        "--new-master-key-file",
        str(new_key_file),
    )

    assert code == 0
    new_master = LocalMasterKey(new_key_file)
    async for doc in harness.database["data_keys"].find({}):
        assert doc["master_key_id"] == new_master.key_id
    after = {doc["_id"]: doc["sealed_note"] async for doc in harness.collection.find({})}
    assert after == bodies

    moved = Settings(
        **{
            **settings.model_dump(by_alias=True),
            "LOCAL_MASTER_KEY_FILE": str(new_key_file),
            "KAFKA_GROUP_ID": "notes-store-" + uuid.uuid4().hex[:8],
        }
    )
    store = NotesStoreApp(moved)
    await store.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{store.grpc_port}") as channel:
            stub = NotesStoreStub(channel)
            for note in written:
                got = await stub.GetNote(
                    GetNoteRequest(note_id=note.note_id),
                    metadata=harness.as_clinician(note.clinician_id),
                )
                assert got == note
    finally:
        await store.stop()

    # The old master key opens nothing any more.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.notes.GetNote(
            GetNoteRequest(note_id=written[0].note_id),
            metadata=harness.as_clinician("clin-1"),
        )
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


async def test_shredding_a_clinicians_key_makes_their_notes_unreadable(
    harness, settings: Settings
) -> None:
    mine = await write_notes(harness, "clin-1")
    theirs = await write_notes(harness, "clin-2")
    me = harness.as_clinician("clin-1")
    await harness.notes.UpdatePreferences(
        UpdatePreferencesRequest(preferences=NotePreferences(client_reference="Ms. R")),
        metadata=me,
    )

    assert (
        run_command(settings, "notewell.notes_store.shred", "--clinician", "clin-1") == 0
    )

    for call in (
        harness.notes.GetNote(GetNoteRequest(note_id=mine[0].note_id), metadata=me),
        harness.notes.UpdateNote(
            UpdateNoteRequest(note_id=mine[0].note_id, base_version=1, title="x"),
            metadata=me,
        ),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await call
        assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert err.value.details() == "note content is no longer readable"
    listed = await harness.notes.ListNotes(
        ListNotesRequest(client_id="client-7"), metadata=me
    )
    assert list(listed.notes) == []
    preferences = await harness.notes.GetPreferences(GetPreferencesRequest(), metadata=me)
    assert preferences.client_reference == "the client"
    # Ids stay: the dashboard still counts the notes that once were.
    clients = await harness.notes.ListClients(ListClientsRequest(), metadata=me)
    assert [(c.client_id, c.note_count) for c in clients.clients] == [("client-7", 2)]

    # Another clinician's notes are untouched; a new note gets a new key.
    for note in theirs:
        got = await harness.notes.GetNote(
            GetNoteRequest(note_id=note.note_id), metadata=harness.as_clinician("clin-2")
        )
        assert got == note
    fresh = (await write_notes(harness, "clin-1", count=1))[0]
    got = await harness.notes.GetNote(GetNoteRequest(note_id=fresh.note_id), metadata=me)
    assert got == fresh
    assert (
        run_command(settings, "notewell.notes_store.shred", "--clinician", "nobody") == 1
    )
