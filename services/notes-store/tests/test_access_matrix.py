"""Every NotesStore method, called by the owner, by another clinician, without a token,
with an expired token, with a token for another audience and with a service token."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio

from notewell.notes.v1 import notes_store_pb2
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    NoteFormat,
    NotePreferences,
    NoteSection,
    NoteStatus,
    NoteTemplate,
    NoteType,
    TemplateHeading,
)
from notewell.notes.v1.notes_store_pb2 import (
    AddAddendumRequest,
    CreateNoteRequest,
    DiscardNoteRequest,
    GetClientProfileRequest,
    GetClinicianProfileRequest,
    GetNoteRequest,
    GetPreferencesRequest,
    ListAuditEventsRequest,
    ListClientsRequest,
    ListNotesRequest,
    ListTemplatesRequest,
    SaveNoteRequest,
    SaveTemplateRequest,
    UpdateClientProfileRequest,
    UpdateClinicianProfileRequest,
    UpdateNoteRequest,
    UpdatePreferencesRequest,
)
from notewell.notes.v1.notes_store_pb2_grpc import NotesStoreStub
from notewell.notes_store.app import NotesStoreApp
from notewell.notes_store.settings import Settings
from notewell.platform import auth

pytestmark = pytest.mark.asyncio(loop_scope="module")

OWNER = "clin-owner"
OTHER = "clin-other"
Metadata = tuple[tuple[str, str], ...]
Ctx = dict[str, Any]


class Store:
    """One running notes store shared by the whole matrix; every case makes its own
    notes, clients and templates, so cases do not see each other's data."""

    def __init__(self, settings: Settings, stub: NotesStoreStub) -> None:
        self.settings = settings
        self.stub = stub
        self.owner = self.token(OWNER)

    def token(self, clinician_id: str, **kwargs: Any) -> Metadata:
        return auth.bearer(auth.mint_token(self.settings, clinician_id, **kwargs))

    async def new_client_note(self) -> Ctx:
        client_id = "client-" + uuid.uuid4().hex[:8]
        note = await self.stub.CreateNote(
            CreateNoteRequest(client_id=client_id, template_id="progress-note"),
            metadata=self.owner,
        )
        return {"client_id": client_id, "note_id": note.note_id, "version": 1}

    async def new_signed_note(self) -> Ctx:
        ctx = await self.new_client_note()
        await self.stub.SaveNote(
            SaveNoteRequest(note_id=ctx["note_id"], base_version=1), metadata=self.owner
        )
        return {**ctx, "version": 2}

    async def new_template(self) -> Ctx:
        template = await self.stub.SaveTemplate(
            SaveTemplateRequest(template=owner_template("Owner's intake")),
            metadata=self.owner,
        )
        return {"template_id": template.template_id}

    async def owner_note_version(self, note_id: str) -> int:
        note = await self.stub.GetNote(
            GetNoteRequest(note_id=note_id), metadata=self.owner
        )
        return note.version


def owner_template(name: str, template_id: str = "") -> NoteTemplate:
    return NoteTemplate(
        template_id=template_id,
        name=name,
        note_type=NoteType.NOTE_TYPE_PROGRESS,
        headings=[TemplateHeading(key="focus", title="Focus", instruction="What.")],
    )


@dataclass(frozen=True)
class Case:
    prepare: Callable[[Store], Awaitable[Ctx]]
    call: Callable[[Store, Ctx, Metadata], Awaitable[Any]]
    # Checks the owner's answer.
    owner: Callable[[Store, Ctx, Any], Awaitable[None]]
    # NOT_FOUND, or a check of what another clinician gets back instead.
    other: grpc.StatusCode | Callable[[Store, Ctx, Any], Awaitable[None]]


async def _clients_owner(s: Store, ctx: Ctx, answer: Any) -> None:
    ids = {c.client_id: c.note_count for c in answer.clients}
    assert ids.get(ctx["client_id"]) == 1


async def _clients_other(s: Store, ctx: Ctx, answer: Any) -> None:
    assert ctx["client_id"] not in {c.client_id for c in answer.clients}


async def _notes_owner(s: Store, ctx: Ctx, answer: Any) -> None:
    assert [n.note_id for n in answer.notes] == [ctx["note_id"]]


async def _notes_other(s: Store, ctx: Ctx, answer: Any) -> None:
    assert list(answer.notes) == []


async def _got_note(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.note_id == ctx["note_id"]
    assert answer.clinician_id == OWNER


async def _created_from_template(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.template_id == ctx["template_id"]
    assert [x.key for x in answer.sections] == ["focus"]


async def _updated(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.version == 2
    assert answer.title == "Edited"


async def _signed(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.status == NoteStatus.NOTE_STATUS_SIGNED
    assert answer.signature.signed_by == OWNER


async def _amended(s: Store, ctx: Ctx, answer: Any) -> None:
    assert [a.author_id for a in answer.addenda] == [OWNER]
    assert answer.version == 3


async def _discarded(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.note_id == ctx["note_id"]
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await s.owner_note_version(ctx["note_id"])
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def _set_preferences(s: Store) -> Ctx:
    await s.stub.UpdatePreferences(
        UpdatePreferencesRequest(preferences=_preferences("Owner's reference")),
        metadata=s.owner,
    )
    return {}


def _preferences(reference: str) -> NotePreferences:
    return NotePreferences(format=NoteFormat.NOTE_FORMAT_DAP, client_reference=reference)


async def _own_preferences(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.client_reference == "Owner's reference"
    assert answer.format == NoteFormat.NOTE_FORMAT_DAP


async def _default_preferences(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.client_reference == "the client"
    assert answer.format == NoteFormat.NOTE_FORMAT_SOAP


async def _owner_preferences_kept(s: Store, ctx: Ctx, answer: Any) -> None:
    # The other clinician changed their own preferences, not the owner's.
    assert answer.client_reference == "Other's reference"
    mine = await s.stub.GetPreferences(GetPreferencesRequest(), metadata=s.owner)
    assert mine.client_reference == "Owner's reference"


async def _lists_template(s: Store, ctx: Ctx, answer: Any) -> None:
    ids = [t.template_id for t in answer.templates]
    assert ids[:3] == ["progress-note", "process-note", "interim-update"]
    assert ctx["template_id"] in ids


async def _no_foreign_template(s: Store, ctx: Ctx, answer: Any) -> None:
    assert ctx["template_id"] not in [t.template_id for t in answer.templates]


async def _template_replaced(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer.template_id == ctx["template_id"]
    assert answer.name == "Renamed"


async def _trail(s: Store, ctx: Ctx, answer: Any) -> None:
    actions = [(e.action, e.actor_id, e.method) for e in answer.events]
    assert actions[0] == ("created", OWNER, "NotesStore/CreateNote")
    assert all(e.note_id == ctx["note_id"] for e in answer.events)


def _clinician_profile(name: str) -> ClinicianProfile:
    return ClinicianProfile(display_name=name, credentials="LCSW", practice_name="Elm")


async def _set_clinician_profile(s: Store) -> Ctx:
    await s.stub.UpdateClinicianProfile(
        UpdateClinicianProfileRequest(profile=_clinician_profile("Owner Name")),
        metadata=s.owner,
    )
    return {}


async def _own_clinician_profile(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer == _clinician_profile("Owner Name")


async def _empty_clinician_profile(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer == ClinicianProfile()


async def _owner_clinician_profile_kept(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer == _clinician_profile("Other Name")
    mine = await s.stub.GetClinicianProfile(
        GetClinicianProfileRequest(), metadata=s.owner
    )
    assert mine == _clinician_profile("Owner Name")


def _client_profile(client_id: str, name: str) -> ClientProfile:
    return ClientProfile(
        client_id=client_id,
        full_name=name,
        date_of_birth="1990-04-12",
        diagnoses=["F41.1"],
    )


async def _set_client_profile(s: Store) -> Ctx:
    client_id = "client-" + uuid.uuid4().hex[:8]
    await s.stub.UpdateClientProfile(
        UpdateClientProfileRequest(profile=_client_profile(client_id, "Owner's client")),
        metadata=s.owner,
    )
    return {"client_id": client_id}


async def _own_client_profile(s: Store, ctx: Ctx, answer: Any) -> None:
    assert answer == _client_profile(ctx["client_id"], "Owner's client")


async def _owner_client_profile_kept(s: Store, ctx: Ctx, answer: Any) -> None:
    # The other clinician made a record of their own under the same client id.
    assert answer.full_name == "Other's client"
    mine = await s.stub.GetClientProfile(
        GetClientProfileRequest(client_id=ctx["client_id"]), metadata=s.owner
    )
    assert mine == _client_profile(ctx["client_id"], "Owner's client")


NF = grpc.StatusCode.NOT_FOUND

CASES: dict[str, Case] = {
    "ListClients": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.ListClients(ListClientsRequest(), metadata=m),
        _clients_owner,
        _clients_other,
    ),
    "ListNotes": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.ListNotes(
            ListNotesRequest(client_id=c["client_id"]), metadata=m
        ),
        _notes_owner,
        _notes_other,
    ),
    "GetNote": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.GetNote(GetNoteRequest(note_id=c["note_id"]), metadata=m),
        _got_note,
        NF,
    ),
    "CreateNote": Case(
        Store.new_template,
        lambda s, c, m: s.stub.CreateNote(
            CreateNoteRequest(client_id="client-x", template_id=c["template_id"]),
            metadata=m,
        ),
        _created_from_template,
        NF,
    ),
    "UpdateNote": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.UpdateNote(
            UpdateNoteRequest(
                note_id=c["note_id"],
                base_version=1,
                title="Edited",
                sections=[NoteSection(key="plan", text="Weekly.")],
            ),
            metadata=m,
        ),
        _updated,
        NF,
    ),
    "SaveNote": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.SaveNote(
            SaveNoteRequest(note_id=c["note_id"], base_version=1), metadata=m
        ),
        _signed,
        NF,
    ),
    "AddAddendum": Case(
        Store.new_signed_note,
        lambda s, c, m: s.stub.AddAddendum(
            AddAddendumRequest(note_id=c["note_id"], base_version=2, text="Later."),
            metadata=m,
        ),
        _amended,
        NF,
    ),
    "DiscardNote": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.DiscardNote(
            DiscardNoteRequest(note_id=c["note_id"], base_version=1), metadata=m
        ),
        _discarded,
        NF,
    ),
    "GetPreferences": Case(
        _set_preferences,
        lambda s, c, m: s.stub.GetPreferences(GetPreferencesRequest(), metadata=m),
        _own_preferences,
        _default_preferences,
    ),
    "UpdatePreferences": Case(
        _set_preferences,
        lambda s, c, m: s.stub.UpdatePreferences(
            UpdatePreferencesRequest(
                preferences=_preferences(
                    "Owner's reference" if m == s.owner else "Other's reference"
                )
            ),
            metadata=m,
        ),
        _own_preferences,
        _owner_preferences_kept,
    ),
    "ListTemplates": Case(
        Store.new_template,
        lambda s, c, m: s.stub.ListTemplates(ListTemplatesRequest(), metadata=m),
        _lists_template,
        _no_foreign_template,
    ),
    "SaveTemplate": Case(
        Store.new_template,
        lambda s, c, m: s.stub.SaveTemplate(
            SaveTemplateRequest(template=owner_template("Renamed", c["template_id"])),
            metadata=m,
        ),
        _template_replaced,
        NF,
    ),
    "ListAuditEvents": Case(
        Store.new_client_note,
        lambda s, c, m: s.stub.ListAuditEvents(
            ListAuditEventsRequest(note_id=c["note_id"]), metadata=m
        ),
        _trail,
        NF,
    ),
    "GetClinicianProfile": Case(
        _set_clinician_profile,
        lambda s, c, m: s.stub.GetClinicianProfile(
            GetClinicianProfileRequest(), metadata=m
        ),
        _own_clinician_profile,
        _empty_clinician_profile,
    ),
    "UpdateClinicianProfile": Case(
        _set_clinician_profile,
        lambda s, c, m: s.stub.UpdateClinicianProfile(
            UpdateClinicianProfileRequest(
                profile=_clinician_profile("Owner Name" if m == s.owner else "Other Name")
            ),
            metadata=m,
        ),
        _own_clinician_profile,
        _owner_clinician_profile_kept,
    ),
    "GetClientProfile": Case(
        _set_client_profile,
        lambda s, c, m: s.stub.GetClientProfile(
            GetClientProfileRequest(client_id=c["client_id"]), metadata=m
        ),
        _own_client_profile,
        NF,
    ),
    "UpdateClientProfile": Case(
        _set_client_profile,
        lambda s, c, m: s.stub.UpdateClientProfile(
            UpdateClientProfileRequest(
                profile=_client_profile(
                    c["client_id"],
                    "Owner's client" if m == s.owner else "Other's client",
                )
            ),
            metadata=m,
        ),
        _own_client_profile,
        _owner_client_profile_kept,
    ),
}

CALLERS = [
    "owner",
    "other clinician",
    "no token",
    "expired token",
    "wrong audience",
    "service token",
]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def store(
    stack_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Store]:
    env = dict(stack_env)
    env.update(
        MONGODB_DATABASE=f"t_{uuid.uuid4().hex[:12]}",
        KAFKA_TOPIC_PREFIX=f"t{uuid.uuid4().hex[:10]}.",
        LOCAL_MASTER_KEY_FILE=str(Path(tmp_path_factory.mktemp("keys")) / "master.key"),
        AUTH_HS256_SECRET="test-gateway-secret-" + uuid.uuid4().hex,
        SERVICE_AUTH_SECRET="test-service-secret-" + uuid.uuid4().hex,
        GRPC_PORT="0",
    )
    settings = Settings(**env)
    app = NotesStoreApp(settings)
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            yield Store(settings, NotesStoreStub(channel))
    finally:
        await app.stop()


async def test_the_matrix_covers_every_method() -> None:
    service = notes_store_pb2.DESCRIPTOR.services_by_name["NotesStore"]
    assert set(CASES) == {method.name for method in service.methods}


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("method", sorted(CASES))
async def test_access(store: Store, method: str, caller: str) -> None:
    case = CASES[method]
    ctx = await case.prepare(store)
    metadata = {
        "owner": store.owner,
        "other clinician": store.token(OTHER),
        "no token": (),
        "expired token": store.token(OWNER, ttl_seconds=-60),
        "wrong audience": store.token(OWNER, audience="some-other-service"),
        "service token": auth.bearer(auth.mint_service_token(store.settings, "drafter")),
    }[caller]

    if caller == "owner":
        await case.owner(store, ctx, await case.call(store, ctx, metadata))
        return
    if caller == "other clinician" and not isinstance(case.other, grpc.StatusCode):
        await case.other(store, ctx, await case.call(store, ctx, metadata))
        return

    expected = (
        case.other if caller == "other clinician" else grpc.StatusCode.UNAUTHENTICATED
    )
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await case.call(store, ctx, metadata)
    assert err.value.code() == expected, err.value.details()
    # A refused call changed nothing.
    if "note_id" in ctx:
        assert await store.owner_note_version(ctx["note_id"]) == ctx["version"]
