"""Envelope encryption: AES-256-GCM data keys wrapped by a KMS master key.

Production wraps data keys with AWS KMS; the one-machine default wraps them with a local
master key file that is created on first use and never committed.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from hashlib import sha256
from pathlib import Path
from typing import Protocol, TypeVar

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message

from notewell.common.v1.common_pb2 import SealedBox
from notewell.platform.settings import PlatformSettings

M = TypeVar("M", bound=Message)


class DecryptionError(Exception):
    """Ciphertext could not be opened: wrong key, tampering or a shredded data key."""


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes
    wrapped: bytes
    key_id: str


class MasterKey(Protocol):
    key_id: str

    def generate_data_key(self) -> DataKey: ...

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes: ...


class LocalMasterKey:
    """A 256-bit key kept in a file with mode 0600, standing in for a KMS key."""

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        self._key = self._load_or_create()
        # The key id names the key without revealing it.
        self.key_id = "local:" + sha256(self._key).hexdigest()[:16]

    def _load_or_create(self) -> bytes:
        if self._path.exists():
            key = self._path.read_bytes()
            if len(key) != 32:
                raise ValueError("local master key file must hold exactly 32 bytes")
            return key
        self._path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd = os.open(self._path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, key)
        finally:
            os.close(fd)
        return key

    def generate_data_key(self) -> DataKey:
        plaintext = AESGCM.generate_key(bit_length=256)
        return self.wrap(plaintext)

    def wrap(self, plaintext: bytes) -> DataKey:
        """Wraps an existing data key, e.g. one moved here from another master key."""
        nonce = secrets.token_bytes(12)
        wrapped = nonce + AESGCM(self._key).encrypt(nonce, plaintext, b"data-key")
        return DataKey(plaintext=plaintext, wrapped=wrapped, key_id=self.key_id)

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        if key_id != self.key_id:
            raise DecryptionError("data key was wrapped by a different master key")
        try:
            return AESGCM(self._key).decrypt(wrapped[:12], wrapped[12:], b"data-key")
        except Exception as exc:
            raise DecryptionError("data key could not be unwrapped") from exc


_KMS_REFUSALS = {
    "InvalidCiphertextException",
    "IncorrectKeyException",
    "AccessDeniedException",
    "NotFoundException",
    "DisabledException",
    "KMSInvalidStateException",
}


class AwsKmsMasterKey:
    """A customer master key in AWS KMS, reached through boto3."""

    def __init__(self, key_id: str, region: str, endpoint_url: str | None = None) -> None:
        import boto3

        self.key_id = key_id
        self._kms = boto3.client("kms", region_name=region, endpoint_url=endpoint_url)

    def generate_data_key(self) -> DataKey:
        out = self._kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256")
        return DataKey(out["Plaintext"], out["CiphertextBlob"], out["KeyId"])

    def wrap(self, plaintext: bytes) -> DataKey:
        """Wraps an existing data key, e.g. one moved here from another master key."""
        out = self._kms.encrypt(KeyId=self.key_id, Plaintext=plaintext)
        return DataKey(plaintext, out["CiphertextBlob"], out["KeyId"])

    def unwrap(self, wrapped: bytes, key_id: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            out = self._kms.decrypt(CiphertextBlob=wrapped, KeyId=key_id)
        except ClientError as exc:
            # A refusal is final; throttling, outages and network errors propagate so
            # the caller retries instead of giving up on the data.
            if exc.response.get("Error", {}).get("Code") in _KMS_REFUSALS:
                raise DecryptionError("KMS refused to unwrap the data key") from None
            raise
        plaintext: bytes = out["Plaintext"]
        return plaintext


def master_key_from_settings(settings: PlatformSettings) -> MasterKey:
    if settings.kms_key_id:
        return AwsKmsMasterKey(
            settings.kms_key_id, settings.aws_region, settings.kms_endpoint_url
        )
    return LocalMasterKey(settings.local_master_key_file)


class Sealer:
    """Seals protobuf messages into SealedBox envelopes and opens them again.

    Each box gets its own data key; the associated data binds the ciphertext to the
    message type and to a caller-chosen context (for example the session id), so a box
    moved to another event fails to open.
    """

    def __init__(self, master_key: MasterKey) -> None:
        self._master = master_key

    def seal(self, message: Message, context: str = "") -> SealedBox:
        data_key = self._master.generate_data_key()
        content_type = message.DESCRIPTOR.full_name
        nonce = secrets.token_bytes(12)
        ciphertext = AESGCM(data_key.plaintext).encrypt(
            nonce, message.SerializeToString(), _aad(content_type, context)
        )
        return SealedBox(
            key_id=data_key.key_id,
            wrapped_key=data_key.wrapped,
            nonce=nonce,
            ciphertext=ciphertext,
            content_type=content_type,
        )

    def open(self, box: SealedBox, message_type: type[M], context: str = "") -> M:
        expected = message_type.DESCRIPTOR.full_name
        if box.content_type != expected:
            raise DecryptionError("sealed box holds a different message type")
        key = self._master.unwrap(box.wrapped_key, box.key_id)
        try:
            plaintext = AESGCM(key).decrypt(
                box.nonce, box.ciphertext, _aad(expected, context)
            )
        except Exception as exc:
            raise DecryptionError("sealed box could not be opened") from exc
        message = message_type()
        message.ParseFromString(plaintext)
        return message


def _aad(content_type: str, context: str) -> bytes:
    return f"{content_type}|{context}".encode()
