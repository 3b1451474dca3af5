"""Per-chunk progress of a recording's transcription, kept in MongoDB.

Each finished chunk's words are stored (sealed, context = session id) under a unique
id ``<session>/<track>/<chunk>`` before the next chunk starts. A transcription that
crashes resumes at the first chunk without a document, so no segment is lost and none
is transcribed twice. The ``transcriptions`` document holds the share done, for
``GetTranscriptionStatus``. Both are deleted once the transcript is stored.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from notewell.common.v1.common_pb2 import SealedBox, SpeakerRole, Transcript, Utterance
from notewell.platform.crypto import Sealer
from notewell.transcriber.speech_to_text import Word

CHUNKS = "transcription_chunks"
STATUS = "transcriptions"


class Progress:
    def __init__(self, database: AsyncDatabase[dict[str, Any]], sealer: Sealer) -> None:
        self._chunks = database[CHUNKS]
        self._status = database[STATUS]
        self._sealer = sealer

    async def ensure_indexes(self) -> None:
        await self._chunks.create_index("session_id")

    async def done_chunks(self, session_id: str) -> dict[tuple[int, int], list[Word]]:
        """Words of the chunks already transcribed, by (track, chunk)."""
        done: dict[tuple[int, int], list[Word]] = {}
        async for doc in self._chunks.find({"session_id": session_id}):
            box = SealedBox()
            box.ParseFromString(doc["words"])
            sealed = self._sealer.open(box, Transcript, context=session_id)
            done[(doc["track"], doc["chunk"])] = [
                Word(u.start_seconds, u.end_seconds, u.text) for u in sealed.utterances
            ]
        return done

    async def save_chunk(
        self, session_id: str, track: int, chunk: int, words: list[Word]
    ) -> None:
        # A Transcript is the sealed container: one utterance per word.
        container = Transcript(session_id=session_id)
        for word in words:
            container.utterances.append(
                Utterance(
                    role=SpeakerRole.SPEAKER_ROLE_UNSPECIFIED,
                    start_seconds=word.start,
                    end_seconds=word.end,
                    text=word.text,
                )
            )
        sealed = self._sealer.seal(container, context=session_id)
        # A chunk already stored was stored by an earlier attempt with the same words.
        with contextlib.suppress(DuplicateKeyError):
            await self._chunks.insert_one(
                {
                    "_id": f"{session_id}/{track}/{chunk}",
                    "session_id": session_id,
                    "track": track,
                    "chunk": chunk,
                    "words": sealed.SerializeToString(),
                }
            )

    async def report(
        self,
        session_id: str,
        clinician_id: str,
        done_seconds: float,
        total_seconds: float,
    ) -> None:
        percent = int(100 * done_seconds / total_seconds) if total_seconds > 0 else 0
        await self._status.find_one_and_update(
            {"_id": session_id},
            {
                "$set": {
                    "clinician_id": clinician_id,
                    "percent": min(percent, 99),
                    "updated_at": datetime.now(UTC),
                }
            },
            upsert=True,
        )

    async def status(self, session_id: str) -> dict[str, Any] | None:
        return await self._status.find_one({"_id": session_id})

    async def forget(self, session_id: str) -> None:
        await self._chunks.delete_many({"session_id": session_id})
        await self._status.delete_many({"_id": session_id})
