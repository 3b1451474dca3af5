"""The clinician's voice for a note, resolved from their NotePreferences and the
clinician's and client's profiles: how each person is referred to, the client's
pronouns, how long the note is and how much it quotes.

Detail levels and quote levels are data (``voice.json``); what the model is told
about them is in the prompt templates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    DetailLevel,
    DirectQuotes,
    NotePreferences,
)

FIRST_PERSON = "first person"
NAME_AND_CREDENTIALS = "name and credentials"
FIRST_NAME = "first name"
INITIALS = "initials"
DEFAULT_CLINICIAN = "the therapist"
DEFAULT_CLIENT = "the client"


@dataclass(frozen=True)
class Detail:
    name: str
    # The whole note's length the model aims at; also sizes its answer's token limit.
    target_words: int
    description: str


@dataclass(frozen=True)
class Quotes:
    name: str
    # Most direct quotations the whole note may keep; enforced after the model.
    max_quotes: int
    instruction: str


@dataclass(frozen=True)
class Voice:
    # The phrase the note uses for the clinician ("I" when first_person).
    clinician: str
    first_person: bool
    client: str
    # e.g. "she/her"; empty when neither the profile nor the preferences give them.
    pronouns: str
    detail: Detail
    quotes: Quotes


def _load() -> tuple[dict[str, Detail], dict[str, Quotes]]:
    data = json.loads(
        resources.files("notewell.drafter").joinpath("voice.json").read_text("utf-8")
    )
    details = {
        name: Detail(name, spec["target_words"], spec["description"])
        for name, spec in data["detail_levels"].items()
    }
    quotes = {
        name: Quotes(name, spec["max_quotes"], spec["instruction"])
        for name, spec in data["direct_quotes"].items()
    }
    return details, quotes


DETAILS, QUOTES = _load()

_DETAIL_NAMES = {
    DetailLevel.DETAIL_LEVEL_BRIEF: "brief",
    DetailLevel.DETAIL_LEVEL_STANDARD: "standard",
    DetailLevel.DETAIL_LEVEL_DETAILED: "detailed",
}
_QUOTE_NAMES = {
    DirectQuotes.DIRECT_QUOTES_NONE: "none",
    DirectQuotes.DIRECT_QUOTES_A_FEW: "a_few",
    DirectQuotes.DIRECT_QUOTES_MANY: "many",
}


def default_preferences() -> NotePreferences:
    """What the drafter follows when the clinician's preferences cannot be read."""
    return NotePreferences(
        clinician_reference=DEFAULT_CLINICIAN,
        client_reference=DEFAULT_CLIENT,
        detail_level=DetailLevel.DETAIL_LEVEL_STANDARD,
        direct_quotes=DirectQuotes.DIRECT_QUOTES_A_FEW,
    )


def resolve_voice(
    preferences: NotePreferences,
    clinician: ClinicianProfile | None = None,
    client: ClientProfile | None = None,
) -> Voice:
    clinician = clinician or ClinicianProfile()
    client = client or ClientProfile()
    clinician_phrase, first_person = _clinician_reference(
        preferences.clinician_reference, clinician
    )
    return Voice(
        clinician=clinician_phrase,
        first_person=first_person,
        client=_client_reference(preferences.client_reference, client),
        pronouns=(client.pronouns or preferences.client_pronouns).strip(),
        detail=DETAILS[_DETAIL_NAMES.get(preferences.detail_level, "standard")],
        quotes=QUOTES[_QUOTE_NAMES.get(preferences.direct_quotes, "a_few")],
    )


def _clinician_reference(wanted: str, profile: ClinicianProfile) -> tuple[str, bool]:
    phrase = " ".join(wanted.split())
    asked = phrase.casefold()
    if asked == FIRST_PERSON:
        return "I", True
    if asked == NAME_AND_CREDENTIALS:
        name = profile.display_name.strip()
        if not name:
            return DEFAULT_CLINICIAN, False
        credentials = profile.credentials.strip()
        return (f"{name}, {credentials}" if credentials else name), False
    return (phrase or DEFAULT_CLINICIAN), False


def _client_reference(wanted: str, profile: ClientProfile) -> str:
    phrase = " ".join(wanted.split())
    asked = phrase.casefold()
    full = profile.full_name.split()
    if asked == FIRST_NAME:
        first = profile.preferred_name.strip() or (full[0] if full else "")
        return first or DEFAULT_CLIENT
    if asked == INITIALS:
        return "".join(f"{word[0].upper()}." for word in full) or DEFAULT_CLIENT
    return phrase or DEFAULT_CLIENT


DEFAULT_VOICE = resolve_voice(default_preferences())
