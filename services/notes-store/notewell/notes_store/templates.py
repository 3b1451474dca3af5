"""Note templates: the store's built-in ones and each clinician's own.

A template is data: a name, a note type and headings, each with an instruction saying
what belongs under it. A clinician's templates live in the ``templates`` collection,
sealed with their data key (``_id`` = template id, ``clinician_id`` in clear).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from notewell.common.v1.common_pb2 import SealedBox
from notewell.notes.v1.note_pb2 import NoteTemplate, NoteType, TemplateHeading
from notewell.notes_store.errors import NoteUnreadable, TemplateNotFound
from notewell.platform.crypto import DecryptionError
from notewell.platform.keyring import Keyring
from notewell.platform.logs import get_logger

log = get_logger(__name__)

Document = dict[str, Any]


def _heading(key: str, title: str, instruction: str) -> TemplateHeading:
    return TemplateHeading(key=key, title=title, instruction=instruction)


BUILT_IN: dict[str, NoteTemplate] = {
    t.template_id: t
    for t in (
        NoteTemplate(
            template_id="progress-note",
            name="Progress note",
            note_type=NoteType.NOTE_TYPE_PROGRESS,
            built_in=True,
            headings=[
                _heading(
                    "subjective",
                    "Subjective",
                    "What the client reported: concerns, mood, events.",
                ),
                _heading(
                    "objective",
                    "Objective",
                    "What was observed: affect, behaviour, measures.",
                ),
                _heading(
                    "assessment",
                    "Assessment",
                    "Clinical impression and progress toward goals.",
                ),
                _heading("plan", "Plan", "Next steps, homework and next session."),
            ],
        ),
        NoteTemplate(
            template_id="process-note",
            name="Process note",
            note_type=NoteType.NOTE_TYPE_PSYCHOTHERAPY,
            built_in=True,
            headings=[
                _heading(
                    "process",
                    "Session process",
                    "The session's themes and the relationship between you.",
                ),
                _heading(
                    "impressions",
                    "Impressions",
                    "Your hypotheses, reactions and countertransference.",
                ),
                _heading("next", "For next time", "What to explore or watch for."),
            ],
        ),
        NoteTemplate(
            template_id="interim-update",
            name="Interim update",
            note_type=NoteType.NOTE_TYPE_INTERIM_UPDATE,
            built_in=True,
            headings=[
                _heading(
                    "update",
                    "Update",
                    "What happened since the last session and how you learned it.",
                ),
                _heading("action", "Action taken", "What you did, if anything."),
            ],
        ),
    )
}


class TemplateStore:
    def __init__(self, collection: AsyncCollection[Document], keyring: Keyring) -> None:
        self._collection = collection
        self._keyring = keyring

    async def ensure_indexes(self) -> None:
        await self._collection.create_index([("clinician_id", ASCENDING)])

    async def get(self, clinician_id: str, template_id: str) -> NoteTemplate:
        """A built-in template or one of the clinician's own."""
        if template_id in BUILT_IN:
            return BUILT_IN[template_id]
        doc = await self._collection.find_one(
            {"_id": template_id, "clinician_id": clinician_id}
        )
        if doc is None:
            raise TemplateNotFound()
        return await self._open(doc)

    async def all_of(self, clinician_id: str) -> list[NoteTemplate]:
        """The built-in templates, then the clinician's own oldest first."""
        templates = list(BUILT_IN.values())
        cursor = self._collection.find({"clinician_id": clinician_id}).sort(
            [("created_at", ASCENDING), ("_id", ASCENDING)]
        )
        async for doc in cursor:
            try:
                templates.append(await self._open(doc))
            except NoteUnreadable:
                log.warning("template_unreadable", extra={"template_id": doc["_id"]})
        return templates

    async def save(self, clinician_id: str, template: NoteTemplate) -> NoteTemplate:
        """Creates the template (a new id when it has none) or replaces the
        clinician's template of that id; another clinician's id is TemplateNotFound."""
        stored = NoteTemplate()
        stored.CopyFrom(template)
        stored.built_in = False
        if not stored.template_id:
            stored.template_id = "t-" + uuid.uuid4().hex
        if stored.template_id in BUILT_IN:
            raise TemplateNotFound()
        box = await self._keyring.seal(
            clinician_id, stored, context=_context(stored.template_id)
        )
        now = datetime.now(UTC)
        try:
            await self._collection.update_one(
                {"_id": stored.template_id, "clinician_id": clinician_id},
                {
                    "$set": {
                        "sealed_template": box.SerializeToString(),
                        "updated_at": now,
                    },
                    "$setOnInsert": {"created_at": now},
                },
                upsert=True,
            )
        except DuplicateKeyError:
            # The id belongs to another clinician's template.
            raise TemplateNotFound() from None
        return stored

    async def _open(self, doc: Document) -> NoteTemplate:
        box = SealedBox.FromString(bytes(doc["sealed_template"]))
        try:
            return await self._keyring.open(
                box, NoteTemplate, context=_context(str(doc["_id"]))
            )
        except DecryptionError:
            raise NoteUnreadable() from None


def _context(template_id: str) -> str:
    return "template:" + template_id
