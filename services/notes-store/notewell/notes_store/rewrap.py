"""``python -m notewell.notes_store.rewrap``: wraps every clinician's data key under a new
master key, without re-encrypting any note.

The current master key comes from the usual settings (``KMS_KEY_ID`` or
``LOCAL_MASTER_KEY_FILE``); the new one from ``--new-kms-key-id`` or
``--new-master-key-file`` (created when missing). Once it has run, point the settings
of every notes-store replica at the new key and restart them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from notewell.notes_store.app import DATA_KEYS_COLLECTION
from notewell.notes_store.settings import Settings
from notewell.platform.clients import mongo_client
from notewell.platform.crypto import (
    AwsKmsMasterKey,
    LocalMasterKey,
    master_key_from_settings,
)
from notewell.platform.keyring import Keyring, WrappingMasterKey
from notewell.platform.logs import configure_logging, get_logger

log = get_logger(__name__)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m notewell.notes_store.rewrap")
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--new-master-key-file", help="local 32-byte master key file")
    target.add_argument("--new-kms-key-id", help="AWS KMS key id or ARN")
    return parser.parse_args(argv)


def new_master_key(args: argparse.Namespace, settings: Settings) -> WrappingMasterKey:
    if args.new_kms_key_id:
        return AwsKmsMasterKey(
            args.new_kms_key_id, settings.aws_region, settings.kms_endpoint_url
        )
    return LocalMasterKey(args.new_master_key_file)


async def rewrap(settings: Settings, new_master: WrappingMasterKey) -> int:
    """Re-wraps the data keys; returns how many changed."""
    mongo = mongo_client(settings)
    try:
        keyring = Keyring(
            mongo[settings.mongodb_database][DATA_KEYS_COLLECTION],
            master_key_from_settings(settings),
        )
        return await keyring.rewrap(new_master)
    finally:
        await mongo.close()


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    count = asyncio.run(rewrap(settings, new_master_key(args, settings)))
    log.info("data_keys_rewrapped", extra={"count": count})
    return 0


if __name__ == "__main__":
    sys.exit(main())
