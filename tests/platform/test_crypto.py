from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from notewell.common.v1.common_pb2 import Transcript, Utterance
from notewell.notes.v1.note_pb2 import Note
from notewell.platform.crypto import (
    AwsKmsMasterKey,
    DecryptionError,
    LocalMasterKey,
    Sealer,
)

SECRET = "I have not told anyone about the panic attacks"


def transcript() -> Transcript:
    return Transcript(session_id="s1", utterances=[Utterance(id="u0", text=SECRET)])


def test_local_key_is_created_once_with_owner_only_permissions(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "master.key"
    first = LocalMasterKey(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert LocalMasterKey(path).key_id == first.key_id


def test_sealed_box_opens_only_with_its_type_and_context(tmp_path: Path) -> None:
    sealer = Sealer(LocalMasterKey(tmp_path / "master.key"))
    box = sealer.seal(transcript(), context="s1")

    assert SECRET.encode() not in box.SerializeToString()
    assert sealer.open(box, Transcript, context="s1").utterances[0].text == SECRET
    with pytest.raises(DecryptionError):
        sealer.open(box, Transcript, context="s2")
    with pytest.raises(DecryptionError):
        sealer.open(box, Note, context="s1")


def test_tampered_or_foreign_boxes_do_not_open(tmp_path: Path) -> None:
    sealer = Sealer(LocalMasterKey(tmp_path / "a.key"))
    box = sealer.seal(transcript(), context="s1")
    tampered = type(box)()
    tampered.CopyFrom(box)
    tampered.ciphertext = bytes([box.ciphertext[0] ^ 1]) + box.ciphertext[1:]
    with pytest.raises(DecryptionError):
        sealer.open(tampered, Transcript, context="s1")
    with pytest.raises(DecryptionError):
        Sealer(LocalMasterKey(tmp_path / "b.key")).open(box, Transcript, context="s1")


@mock_aws
def test_aws_kms_wraps_and_unwraps_data_keys() -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    other_id = kms.create_key()["KeyMetadata"]["KeyId"]
    sealer = Sealer(AwsKmsMasterKey(key_id, "us-east-1"))

    box = sealer.seal(transcript(), context="s1")
    assert sealer.open(box, Transcript, context="s1").utterances[0].text == SECRET

    box.key_id = other_id
    with pytest.raises(DecryptionError):
        sealer.open(box, Transcript, context="s1")
