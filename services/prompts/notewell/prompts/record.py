"""One client's record as one clinician may see it: their signed notes, preferences and
profiles from the notes store, and the scores and wearable days this service keeps."""

from __future__ import annotations

from dataclasses import dataclass, field

from notewell.clinical.store import ClinicalData
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    Note,
    NotePreferences,
    NoteStatus,
    NoteTemplate,
    NoteType,
)
from notewell.platform.notes_context import NotesContextClient


class ClientNotFound(Exception):
    """The clinician has recorded nothing about the client. Carries no ids."""


@dataclass
class ClientRecord:
    clinician_id: str
    client_id: str
    preferences: NotePreferences = field(default_factory=NotePreferences)
    clinician: ClinicianProfile = field(default_factory=ClinicianProfile)
    client: ClientProfile | None = None
    custom_template: NoteTemplate | None = None
    # Signed progress notes and interim updates of this clinician, newest first.
    notes: list[Note] = field(default_factory=list)
    measurements: list[Measurement] = field(default_factory=list)
    wearable_days: list[WearableDay] = field(default_factory=list)


def usable(note: Note, clinician_id: str) -> bool:
    """Signed, part of the record (never a psychotherapy note) and the clinician's own."""
    return (
        note.status == NoteStatus.NOTE_STATUS_SIGNED
        and note.note_type != NoteType.NOTE_TYPE_PSYCHOTHERAPY
        and (note.author_id or note.clinician_id) == clinician_id
    )


class RecordReader:
    def __init__(self, context: NotesContextClient, clinical: ClinicalData) -> None:
        self._context = context
        self._clinical = clinical

    async def read(
        self,
        clinician_id: str,
        client_id: str,
        max_notes: int,
        exclude_session_id: str = "",
    ) -> ClientRecord:
        """The record with up to ``max_notes`` signed notes; ClientNotFound when the
        clinician has no signed note, no profile and no score for the client."""
        context = await self._context.get_client_context(
            clinician_id,
            client_id,
            max_notes=max_notes,
            exclude_session_id=exclude_session_id,
        )
        notes = [n for n in context.notes if usable(n, clinician_id)]
        measurements = await self._clinical.measurements(clinician_id, client_id)
        if not notes and not context.has_client and not measurements:
            raise ClientNotFound()
        return ClientRecord(
            clinician_id=clinician_id,
            client_id=client_id,
            preferences=context.preferences,
            clinician=context.clinician,
            client=context.client if context.has_client else None,
            custom_template=(
                context.custom_template if context.has_custom_template else None
            ),
            notes=notes,
            measurements=measurements,
            wearable_days=await self._clinical.wearable_days(clinician_id, client_id),
        )
