"""``python -m notewell.notes_store.shred --clinician ID``: deletes a clinician's data
key, so every note, template and preference sealed with it becomes unreadable for good
(crypto-shredding). Reads of those notes then answer FAILED_PRECONDITION and listings
leave them out. Running replicas forget the key within ``DATA_KEY_CACHE_SECONDS``.

A later note of the same clinician gets a new data key.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from notewell.notes_store.app import DATA_KEYS_COLLECTION
from notewell.notes_store.settings import Settings
from notewell.platform.clients import mongo_client
from notewell.platform.crypto import master_key_from_settings
from notewell.platform.keyring import Keyring
from notewell.platform.logs import configure_logging, get_logger

log = get_logger(__name__)


async def shred(settings: Settings, clinician_id: str) -> int:
    """Deletes the clinician's data key; returns how many keys were deleted."""
    mongo = mongo_client(settings)
    try:
        keyring = Keyring(
            mongo[settings.mongodb_database][DATA_KEYS_COLLECTION],
            master_key_from_settings(settings),
        )
        return await keyring.shred(clinician_id)
    finally:
        await mongo.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m notewell.notes_store.shred")
    parser.add_argument("--clinician", required=True, help="the clinician's id")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    settings = Settings()
    configure_logging(settings.service_name, settings.log_level)
    count = asyncio.run(shred(settings, args.clinician))
    log.info("data_key_shredded", extra={"clinician_id": args.clinician, "count": count})
    return 0 if count else 1


if __name__ == "__main__":
    sys.exit(main())
