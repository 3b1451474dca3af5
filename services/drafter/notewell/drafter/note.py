"""The draft as a notewell.notes.v1.Note."""

from __future__ import annotations

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.drafter.drafting import Draft
from notewell.drafter.fallback import TITLE_MARK
from notewell.drafter.session_facts import date_of_service
from notewell.events.v1.events_pb2 import TranscriptReady
from notewell.notes.v1.note_pb2 import (
    Evidence,
    Note,
    NoteOrigin,
    NoteSection,
    NoteStatus,
    Statement,
)


def draft_note(
    event: TranscriptReady, draft: Draft, draft_id: str, created_at: Timestamp
) -> Note:
    title = f"Progress note – {date_of_service(event.session, event.occurred_at)}"
    if draft.extractive_fallback:
        title = f"{TITLE_MARK} {title}"
    note = Note(
        note_id=draft_id,
        session_id=event.session_id,
        clinician_id=event.clinician_id,
        client_id=event.client_id,
        format=draft.note_format.name,
        template_id=draft.note_format.template_id,
        status=NoteStatus.NOTE_STATUS_DRAFT,
        origin=NoteOrigin.NOTE_ORIGIN_AI_DRAFT,
        title=title,
        sections=[
            NoteSection(
                key=section.key,
                title=section.title,
                text=section.text,
                evidence=Evidence(
                    utterance_ids=list(section.utterance_ids),
                    context_ids=list(section.context_ids),
                ),
                statements=[
                    Statement(
                        text=statement.text,
                        evidence=Evidence(
                            utterance_ids=list(statement.utterance_ids),
                            context_ids=list(statement.context_ids),
                        ),
                    )
                    for statement in section.statements
                ],
            )
            for section in draft.sections
        ],
        measures=list(draft.context.measures),
        wearables=list(draft.context.wearables),
        version=1,
        extractive_fallback=draft.extractive_fallback,
    )
    note.session.CopyFrom(event.session)
    note.created_at.CopyFrom(created_at)
    note.updated_at.CopyFrom(created_at)
    return note
