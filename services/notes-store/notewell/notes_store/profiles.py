"""The ``clinician_profiles`` and ``client_profiles`` collections: a clinician's own
details and what they record about each client outside the notes.

A clinician profile is one document per clinician (``_id`` = clinician id); a client
profile one per clinician and client, so another clinician's record of a client with
the same id is a different document that neither can see. Everything but the ids is
sealed with the clinician's data key, like their preferences.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import ClientProfile, ClinicianProfile, RecordHeader
from notewell.notes_store.errors import BadRequest
from notewell.platform.crypto import DecryptionError
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Document = dict[str, Any]

NAME_CHARS = 200
PRONOUNS_CHARS = 50
IDENTIFIER_CHARS = 100
DIAGNOSIS_CHARS = 300
MOST_DIAGNOSES = 50
EARLIEST_BIRTH = date(1900, 1, 1)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class ProfileStore:
    def __init__(
        self,
        clinicians: AsyncCollection[Document],
        clients: AsyncCollection[Document],
        keyring: Keyring,
    ) -> None:
        self._clinicians = clinicians
        self._clients = clients
        self._keyring = keyring

    async def ensure_indexes(self) -> None:
        await self._clients.create_index([("clinician_id", 1), ("client_id", 1)])

    async def clinician(self, clinician_id: str) -> ClinicianProfile:
        """The clinician's profile; empty until they fill it in (or after their data
        key was shredded)."""
        doc = await self._clinicians.find_one({"_id": clinician_id})
        if doc is None:
            return ClinicianProfile()
        box = SealedBox.FromString(bytes(doc["sealed_profile"]))
        try:
            return await self._keyring.open(
                box, ClinicianProfile, context=_clinician_context(clinician_id)
            )
        except DecryptionError:
            log.warning("profile_unreadable", extra={"clinician_id": clinician_id})
            return ClinicianProfile()

    async def replace_clinician(
        self, clinician_id: str, profile: ClinicianProfile
    ) -> None:
        box = await self._keyring.seal(
            clinician_id, profile, context=_clinician_context(clinician_id)
        )
        await self._clinicians.update_one(
            {"_id": clinician_id},
            {
                "$set": {
                    "sealed_profile": box.SerializeToString(),
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )

    async def client(self, clinician_id: str, client_id: str) -> ClientProfile | None:
        """The clinician's record of the client; None when there is none (or its data
        key was shredded)."""
        doc = await self._clients.find_one({"_id": _client_key(clinician_id, client_id)})
        if doc is None:
            return None
        box = SealedBox.FromString(bytes(doc["sealed_profile"]))
        try:
            return await self._keyring.open(
                box, ClientProfile, context=_client_context(clinician_id, client_id)
            )
        except DecryptionError:
            log.warning("profile_unreadable", extra={"clinician_id": clinician_id})
            return None

    async def replace_client(self, clinician_id: str, profile: ClientProfile) -> None:
        client_id = profile.client_id
        box = await self._keyring.seal(
            clinician_id, profile, context=_client_context(clinician_id, client_id)
        )
        await self._clients.update_one(
            {"_id": _client_key(clinician_id, client_id)},
            {
                "$set": {
                    "clinician_id": clinician_id,
                    "client_id": client_id,
                    "sealed_profile": box.SerializeToString(),
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )

    async def header(self, clinician_id: str, client_id: str) -> RecordHeader:
        """The record header a note about the client would print now."""
        return record_header(
            await self.clinician(clinician_id),
            await self.client(clinician_id, client_id),
        )


def record_header(
    clinician: ClinicianProfile, client: ClientProfile | None
) -> RecordHeader:
    header = RecordHeader(
        practice_name=clinician.practice_name,
        clinician_name=clinician.display_name,
        clinician_credentials=clinician.credentials,
    )
    if client is not None:
        header.client_name = client.full_name
        header.client_date_of_birth = client.date_of_birth
        header.client_identifier = client.client_identifier
        header.diagnoses.extend(client.diagnoses)
    return header


def check_clinician_profile(profile: ClinicianProfile) -> None:
    """Raises BadRequest for a profile the store will not keep."""
    for name in ("display_name", "credentials", "practice_name"):
        _limit(getattr(profile, name), "profile." + name, NAME_CHARS)


def check_client_profile(profile: ClientProfile, today: date) -> None:
    """Raises BadRequest for a client profile the store will not keep. Messages name
    the field only, never its value."""
    if not profile.client_id.strip():
        raise BadRequest("profile.client_id is required")
    _limit(profile.client_id, "profile.client_id", NAME_CHARS)
    for name in ("full_name", "preferred_name"):
        _limit(getattr(profile, name), "profile." + name, NAME_CHARS)
    _limit(profile.pronouns, "profile.pronouns", PRONOUNS_CHARS)
    _limit(profile.client_identifier, "profile.client_identifier", IDENTIFIER_CHARS)
    if len(profile.diagnoses) > MOST_DIAGNOSES:
        raise BadRequest(f"profile.diagnoses has more than {MOST_DIAGNOSES} entries")
    for index, diagnosis in enumerate(profile.diagnoses):
        if not diagnosis.strip():
            raise BadRequest(f"profile.diagnoses entry {index} is empty")
        _limit(diagnosis, f"profile.diagnoses entry {index}", DIAGNOSIS_CHARS)
    if profile.date_of_birth:
        born = parse_date(profile.date_of_birth, "profile.date_of_birth")
        if not EARLIEST_BIRTH <= born <= today:
            raise BadRequest("profile.date_of_birth is outside the accepted range")


def parse_date(value: str, name: str) -> date:
    if not _DATE.fullmatch(value):
        raise BadRequest(f"{name} must be a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"{name} is not a calendar date") from None


def _limit(value: str, name: str, most: int) -> None:
    if len(value) > most:
        raise BadRequest(f"{name} is longer than {most} characters")


def _client_key(clinician_id: str, client_id: str) -> str:
    # A JSON pair keeps distinct (clinician, client) pairs distinct whatever the ids
    # contain.
    return json.dumps([clinician_id, client_id])


def _clinician_context(clinician_id: str) -> str:
    return "clinician-profile:" + clinician_id


def _client_context(clinician_id: str, client_id: str) -> str:
    return "client-profile:" + _client_key(clinician_id, client_id)
