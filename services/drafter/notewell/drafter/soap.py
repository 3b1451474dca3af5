"""The SOAP note's sections and the shape the model must answer in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from notewell.drafter.evidence import ids_schema
from notewell.drafter.model import InvalidModelOutput, load_json

FORMAT = "SOAP"
NOT_ADDRESSED = "Not addressed in this session."
# Enough to ground a section; more only spends a slow model's output tokens.
MAX_IDS_PER_SECTION = 6

TITLES = {
    "subjective": "Subjective",
    "objective": "Objective",
    "assessment": "Assessment",
    "plan": "Plan",
}
KEYS = tuple(TITLES)


@dataclass(frozen=True)
class Section:
    key: str
    text: str
    utterance_ids: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return TITLES[self.key]


def note_schema(known_ids: frozenset[str]) -> dict[str, Any]:
    section = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "utterance_ids": ids_schema(known_ids, MAX_IDS_PER_SECTION),
        },
        "required": ["text", "utterance_ids"],
    }
    return {
        "type": "object",
        "properties": {key: section for key in KEYS},
        "required": list(KEYS),
    }


class _SectionAnswer(BaseModel):
    text: str
    utterance_ids: list[str] = []


class _NoteAnswer(BaseModel):
    subjective: _SectionAnswer
    objective: _SectionAnswer
    assessment: _SectionAnswer
    plan: _SectionAnswer


def parse_note(content: str) -> list[Section]:
    """The four sections of a model answer, in SOAP order, unchecked."""
    try:
        answer = _NoteAnswer.model_validate(load_json(content))
    except ValidationError:
        # The validation message quotes the answer, which may quote the session.
        raise InvalidModelOutput("answer does not match the note schema") from None
    return [
        Section(key, part.text, tuple(part.utterance_ids))
        for key, part in ((k, getattr(answer, k)) for k in KEYS)
    ]
