"""What a session's draft is written with besides its transcript: the clinician's
format and voice and the earlier notes (from the notes store's NotesContext), and the
client's scores and wearable data (kept by the drafter). Either source failing leaves
the draft to go on without it: default preferences, no earlier notes, no scores."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import SessionFacts
from notewell.drafter.context import DraftContext, build_context
from notewell.drafter.formats import NoteFormat, chosen_format
from notewell.drafter.voice import Voice, default_preferences, resolve_voice
from notewell.measures.v1.measures_pb2 import Measurement, WearableDay
from notewell.notes.v1.notes_store_pb2 import ClientContext
from notewell.platform.logs import get_logger

log = get_logger(__name__)

# Earlier signed notes a draft sees, newest first.
EARLIER_NOTES = 3


class ClientContextSource(Protocol):
    async def get_client_context(
        self,
        clinician_id: str,
        client_id: str,
        max_notes: int = ...,
        exclude_session_id: str = ...,
    ) -> ClientContext: ...


class ClinicalRecords(Protocol):
    async def measurements(
        self, clinician_id: str, client_id: str
    ) -> Sequence[Measurement]: ...

    async def wearable_days(
        self, clinician_id: str, client_id: str
    ) -> Sequence[WearableDay]: ...


@dataclass(frozen=True)
class DraftInputs:
    note_format: NoteFormat
    voice: Voice
    context: DraftContext


class InputGatherer:
    def __init__(
        self,
        notes_context: ClientContextSource | None,
        clinical: ClinicalRecords | None,
    ) -> None:
        self._notes_context = notes_context
        self._clinical = clinical

    async def gather(
        self,
        session_id: str,
        clinician_id: str,
        client_id: str,
        facts: SessionFacts,
    ) -> DraftInputs:
        client_context = await self._client_context(session_id, clinician_id, client_id)
        measurements, days = await self._clinical_data(
            session_id, clinician_id, client_id
        )

        preferences = (
            client_context.preferences
            if client_context.HasField("preferences")
            else default_preferences()
        )
        template = (
            client_context.custom_template if client_context.has_custom_template else None
        )
        voice = resolve_voice(
            preferences,
            client_context.clinician,
            client_context.client if client_context.has_client else None,
        )
        context = build_context(
            client_context.notes, measurements, days, _session_day(facts)
        )
        return DraftInputs(chosen_format(preferences.format, template), voice, context)

    async def _client_context(
        self, session_id: str, clinician_id: str, client_id: str
    ) -> ClientContext:
        if self._notes_context is None:
            return ClientContext()
        try:
            return await self._notes_context.get_client_context(
                clinician_id,
                client_id,
                max_notes=EARLIER_NOTES,
                exclude_session_id=session_id,
            )
        except Exception as exc:
            # Any failure, unreachable store or refusal alike, only costs the draft its
            # preferences and earlier notes.
            log.warning(
                "client_context_unavailable",
                extra={"session_id": session_id, "error_type": type(exc).__name__},
            )
            return ClientContext()

    async def _clinical_data(
        self, session_id: str, clinician_id: str, client_id: str
    ) -> tuple[Sequence[Measurement], Sequence[WearableDay]]:
        if self._clinical is None:
            return (), ()
        try:
            measurements = await self._clinical.measurements(clinician_id, client_id)
            days = await self._clinical.wearable_days(clinician_id, client_id)
        except Exception as exc:
            log.warning(
                "clinical_data_unavailable",
                extra={"session_id": session_id, "error_type": type(exc).__name__},
            )
            return (), ()
        return measurements, days


def _session_day(facts: SessionFacts) -> date | None:
    for stamp in (facts.actual_start, facts.scheduled_start):
        if stamp.seconds or stamp.nanos:
            return _utc(stamp).date()
    return None


def _utc(stamp: Timestamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)
