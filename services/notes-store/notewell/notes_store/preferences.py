"""The ``preferences`` collection: how each clinician wants their notes written.

One document per clinician (``_id`` = clinician id); the preferences themselves are
sealed with the clinician's data key, since the ways they and their clients are
referred to are their own words.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import (
    DetailLevel,
    DirectQuotes,
    NoteFormat,
    NotePreferences,
)
from notewell.platform.crypto import DecryptionError
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Document = dict[str, Any]


def default_preferences() -> NotePreferences:
    return NotePreferences(
        format=NoteFormat.NOTE_FORMAT_SOAP,
        clinician_reference="the therapist",
        client_reference="the client",
        detail_level=DetailLevel.DETAIL_LEVEL_STANDARD,
        direct_quotes=DirectQuotes.DIRECT_QUOTES_A_FEW,
    )


class PreferencesStore:
    def __init__(self, collection: AsyncCollection[Document], keyring: Keyring) -> None:
        self._collection = collection
        self._keyring = keyring

    async def of(self, clinician_id: str) -> NotePreferences:
        """The clinician's preferences, or the defaults until they set their own (or
        after their data key was shredded)."""
        doc = await self._collection.find_one({"_id": clinician_id})
        if doc is None:
            return default_preferences()
        box = SealedBox.FromString(bytes(doc["sealed_preferences"]))
        try:
            return await self._keyring.open(
                box, NotePreferences, context=_context(clinician_id)
            )
        except DecryptionError:
            log.warning("preferences_unreadable", extra={"clinician_id": clinician_id})
            return default_preferences()

    async def replace(self, clinician_id: str, preferences: NotePreferences) -> None:
        box = await self._keyring.seal(
            clinician_id, preferences, context=_context(clinician_id)
        )
        await self._collection.update_one(
            {"_id": clinician_id},
            {
                "$set": {
                    "sealed_preferences": box.SerializeToString(),
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )


def _context(clinician_id: str) -> str:
    return "preferences:" + clinician_id
