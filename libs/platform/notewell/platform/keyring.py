"""Per-owner data keys: envelope encryption with one AES-256-GCM key per owner.

Each owner (a clinician, say) has one data key, stored wrapped by the master key in a
MongoDB collection and kept unwrapped in memory only briefly. Boxes sealed here carry
the data key's id instead of a wrapped key, so

- re-wrapping the data keys under a new master key re-encrypts no content, and
- deleting an owner's data key makes everything sealed for them unreadable
  (crypto-shredding): opening such a box raises ``KeyShredded``.
"""

from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.common.v1.common_pb2 import SealedBox
from notewell.platform.crypto import DataKey, DecryptionError, MasterKey

M = TypeVar("M", bound=Message)
Document = dict[str, Any]

KEY_ID_PREFIX = "dk:"


class KeyShredded(DecryptionError):
    """The data key a box was sealed with has been deleted."""


class WrappingMasterKey(MasterKey, Protocol):
    def wrap(self, plaintext: bytes) -> DataKey: ...


class Keyring:
    """Seals and opens protobuf messages with their owner's data key.

    ``collection`` holds one document per data key: ``_id`` (the key id), ``owner_id``
    (unique), ``wrapped``, ``master_key_id`` and ``created_at``.
    """

    def __init__(
        self,
        collection: AsyncCollection[Document],
        master: MasterKey,
        cache_seconds: float = 60.0,
    ) -> None:
        self._collection = collection
        self._master = master
        self._cache_seconds = cache_seconds
        # key id -> (plaintext, loaded at); owner id -> key id
        self._keys: dict[str, tuple[bytes, float]] = {}
        self._owners: dict[str, str] = {}

    async def ensure_indexes(self) -> None:
        await self._collection.create_index("owner_id", unique=True)

    async def seal(self, owner_id: str, message: Message, context: str) -> SealedBox:
        key_id, key = await self._key_of_owner(owner_id)
        content_type = message.DESCRIPTOR.full_name
        nonce = secrets.token_bytes(12)
        ciphertext = AESGCM(key).encrypt(
            nonce, message.SerializeToString(), _aad(content_type, context)
        )
        return SealedBox(
            key_id=key_id, nonce=nonce, ciphertext=ciphertext, content_type=content_type
        )

    async def open(self, box: SealedBox, message_type: type[M], context: str) -> M:
        expected = message_type.DESCRIPTOR.full_name
        if box.content_type != expected:
            raise DecryptionError("sealed box holds a different message type")
        key = await self._key_by_id(box.key_id)
        try:
            plaintext = AESGCM(key).decrypt(
                box.nonce, box.ciphertext, _aad(expected, context)
            )
        except Exception as exc:
            raise DecryptionError("sealed box could not be opened") from exc
        message = message_type()
        message.ParseFromString(plaintext)
        return message

    async def shred(self, owner_id: str) -> int:
        """Deletes the owner's data key; returns how many keys were deleted."""
        result = await self._collection.delete_many({"owner_id": owner_id})
        key_id = self._owners.pop(owner_id, None)
        if key_id is not None:
            self._keys.pop(key_id, None)
        return result.deleted_count

    async def rewrap(self, new_master: WrappingMasterKey) -> int:
        """Wraps every data key under ``new_master`` instead of the current master key;
        returns how many were re-wrapped. Content sealed with them is untouched."""
        count = 0
        async for doc in self._collection.find({}):
            wrapped = bytes(doc["wrapped"])
            if doc.get("master_key_id") == new_master.key_id:
                continue
            plaintext = await asyncio.to_thread(
                self._master.unwrap, wrapped, str(doc["master_key_id"])
            )
            moved = await asyncio.to_thread(new_master.wrap, plaintext)
            result = await self._collection.update_one(
                {"_id": doc["_id"], "master_key_id": doc["master_key_id"]},
                {"$set": {"wrapped": moved.wrapped, "master_key_id": moved.key_id}},
            )
            count += result.modified_count
        return count

    async def _key_of_owner(self, owner_id: str) -> tuple[str, bytes]:
        key_id = self._owners.get(owner_id)
        if key_id is not None:
            cached = self._cached(key_id)
            if cached is not None:
                return key_id, cached

        doc = await self._collection.find_one({"owner_id": owner_id})
        if doc is None:
            doc = await self._create(owner_id)
        key = await self._unwrap(doc)
        self._owners[owner_id] = str(doc["_id"])
        return str(doc["_id"]), key

    async def _create(self, owner_id: str) -> Document:
        data_key = await asyncio.to_thread(self._master.generate_data_key)
        doc: Document = {
            "_id": KEY_ID_PREFIX + uuid.uuid4().hex,
            "owner_id": owner_id,
            "wrapped": data_key.wrapped,
            "master_key_id": data_key.key_id,
            "created_at": datetime.now(UTC),
        }
        try:
            await self._collection.insert_one(doc)
        except DuplicateKeyError:
            # Another writer created the owner's key first; everyone uses that one.
            existing = await self._collection.find_one({"owner_id": owner_id})
            if existing is None:
                raise
            return existing
        return doc

    async def _key_by_id(self, key_id: str) -> bytes:
        cached = self._cached(key_id)
        if cached is not None:
            return cached
        doc = await self._collection.find_one({"_id": key_id})
        if doc is None:
            raise KeyShredded("the data key of this content no longer exists")
        return await self._unwrap(doc)

    async def _unwrap(self, doc: Document) -> bytes:
        key = await asyncio.to_thread(
            self._master.unwrap, bytes(doc["wrapped"]), str(doc["master_key_id"])
        )
        self._keys[str(doc["_id"])] = (key, time.monotonic())
        return key

    def _cached(self, key_id: str) -> bytes | None:
        entry = self._keys.get(key_id)
        if entry is None:
            return None
        key, loaded_at = entry
        if time.monotonic() - loaded_at > self._cache_seconds:
            del self._keys[key_id]
            return None
        return key


def _aad(content_type: str, context: str) -> bytes:
    return f"keyring|{content_type}|{context}".encode()
