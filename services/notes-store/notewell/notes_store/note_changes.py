"""How a note changes: a new note, a clinician's revision of a draft, signing it into
the record, and addenda to a signed note.

These are pure functions of the stored note; storing the result is the caller's job.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from notewell.notes.v1.note_pb2 import (
    Addendum,
    ClinicianProfile,
    Note,
    NoteOrigin,
    NoteSection,
    NoteStatus,
    NoteTemplate,
    NoteType,
    RecordHeader,
    Signature,
)
from notewell.notes_store.errors import (
    NoteNotFound,
    NoteNotSigned,
    NoteSigned,
    StaleVersion,
)


def check_changeable(note: Note, base_version: int) -> None:
    """Raises unless ``note`` is a draft still at ``base_version``."""
    if note.status == NoteStatus.NOTE_STATUS_DISCARDED:
        raise NoteNotFound()
    if note.status == NoteStatus.NOTE_STATUS_SIGNED:
        raise NoteSigned()
    if note.version != base_version:
        raise StaleVersion(note.version)


def check_amendable(note: Note, base_version: int) -> None:
    """Raises unless ``note`` is signed and still at ``base_version``."""
    if note.status == NoteStatus.NOTE_STATUS_DISCARDED:
        raise NoteNotFound()
    if note.status != NoteStatus.NOTE_STATUS_SIGNED:
        raise NoteNotSigned()
    if note.version != base_version:
        raise StaleVersion(note.version)


@dataclass(frozen=True)
class NewNoteDetails:
    """What the clinician said about a note they start."""

    title: str
    format: str
    session_id: str
    date_of_service: datetime
    now: datetime


def new_note(
    clinician_id: str,
    client_id: str,
    note_type: NoteType.ValueType,
    template: NoteTemplate | None,
    details: NewNoteDetails,
) -> Note:
    """A clinician's new draft, blank or with the template's headings."""
    note = Note(
        note_id="n-" + uuid.uuid4().hex,
        session_id=details.session_id,
        clinician_id=clinician_id,
        author_id=clinician_id,
        client_id=client_id,
        format=details.format,
        status=NoteStatus.NOTE_STATUS_DRAFT,
        origin=NoteOrigin.NOTE_ORIGIN_CLINICIAN,
        note_type=note_type,
        title=details.title,
        version=1,
    )
    if template is not None:
        note.template_id = template.template_id
        note.sections.extend(
            NoteSection(key=h.key, title=h.title) for h in template.headings
        )
    note.date_of_service.FromDatetime(details.date_of_service)
    note.created_at.FromDatetime(details.now)
    note.updated_at.FromDatetime(details.now)
    return note


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


def signed(
    note: Note,
    clinician_id: str,
    now: datetime,
    header: RecordHeader,
    signer: ClinicianProfile,
) -> Note:
    """The draft completed and signed by ``clinician_id``, keeping ``header`` and the
    signer's name and credentials as they are now."""
    after = Note()
    after.CopyFrom(note)
    after.status = NoteStatus.NOTE_STATUS_SIGNED
    after.header.CopyFrom(header)
    _sign(after.signature, clinician_id, now, signer)
    after.version = note.version + 1
    after.updated_at.FromDatetime(now)
    return after


def amended(
    note: Note, author_id: str, text: str, now: datetime, signer: ClinicianProfile
) -> Note:
    """The signed note with one more addendum, signed by its author. Nothing else of
    the note changes but its version and update time."""
    after = Note()
    after.CopyFrom(note)
    addendum = Addendum(
        addendum_id="a-" + uuid.uuid4().hex, author_id=author_id, text=text
    )
    _sign(addendum.signature, author_id, now, signer)
    after.addenda.append(addendum)
    after.version = note.version + 1
    after.updated_at.FromDatetime(now)
    return after


def _sign(
    signature: Signature, signer_id: str, now: datetime, signer: ClinicianProfile
) -> None:
    signature.signed_by = signer_id
    signature.signed_at.FromDatetime(now)
    signature.signer_name = signer.display_name
    signature.signer_credentials = signer.credentials
