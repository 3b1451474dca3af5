"""How a note changes: a clinician's revision of a draft, and signing it into the record.

These are pure functions of the stored note; storing the result is the caller's job.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from notewell.notes.v1.note_pb2 import Note, NoteSection, NoteStatus
from notewell.notes_store.errors import NoteSigned, StaleVersion


def check_changeable(note: Note, base_version: int) -> None:
    """Raises unless ``note`` is a draft still at ``base_version``."""
    if note.status == NoteStatus.NOTE_STATUS_SIGNED:
        raise NoteSigned()
    if note.version != base_version:
        raise StaleVersion(note.version)


def revised(
    note: Note, title: str, sections: Sequence[NoteSection], now: datetime
) -> Note:
    """The draft with its title and sections replaced by the clinician's."""
    after = Note()
    after.CopyFrom(note)
    after.title = title
    del after.sections[:]
    after.sections.extend(sections)
    after.version = note.version + 1
    after.updated_at.FromDatetime(now)
    return after


def signed(note: Note, clinician_id: str, now: datetime) -> Note:
    """The draft completed and signed by ``clinician_id``."""
    after = Note()
    after.CopyFrom(note)
    after.status = NoteStatus.NOTE_STATUS_SIGNED
    after.signature.signed_by = clinician_id
    after.signature.signed_at.FromDatetime(now)
    after.version = note.version + 1
    after.updated_at.FromDatetime(now)
    return after
