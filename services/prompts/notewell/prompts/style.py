"""How generated text should read: the clinician's voice from their preferences and
profiles, its length, and whether it continues a paragraph or a list at the cursor."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    DetailLevel,
    DirectQuotes,
    NotePreferences,
)
from notewell.prompts.sentences import is_list_line

_DETAILS = {
    DetailLevel.DETAIL_LEVEL_BRIEF: "brief",
    DetailLevel.DETAIL_LEVEL_STANDARD: "standard",
    DetailLevel.DETAIL_LEVEL_DETAILED: "detailed",
}
_QUOTES = {
    DirectQuotes.DIRECT_QUOTES_NONE: "none",
    DirectQuotes.DIRECT_QUOTES_A_FEW: "a_few",
    DirectQuotes.DIRECT_QUOTES_MANY: "many",
}


@dataclass(frozen=True)
class Style:
    # How the text names the clinician ("I" in the first person) and the client.
    clinician: str
    first_person: bool
    client: str
    pronouns: str
    sentences: int
    max_tokens: int
    max_quotes: int
    # "paragraph" or "list".
    layout: str
    # Put before the first piece so the text joins what is before the cursor.
    lead: str


@cache
def _levels() -> dict[str, dict[str, object]]:
    raw = (Path(__file__).parent / "data" / "voice.json").read_text("utf-8")
    data: dict[str, dict[str, object]] = json.loads(raw)
    return data


def clinician_phrase(preferences: NotePreferences, profile: ClinicianProfile) -> str:
    choice = preferences.clinician_reference.strip()
    if not choice or choice.casefold() == "the therapist":
        return "the therapist"
    if choice.casefold() == "first person":
        return "I"
    if choice.casefold() == "name and credentials":
        named = ", ".join(p for p in (profile.display_name, profile.credentials) if p)
        return named or "the therapist"
    return choice


def client_phrase(preferences: NotePreferences, client: ClientProfile | None) -> str:
    choice = preferences.client_reference.strip()
    lowered = choice.casefold()
    if client is not None and lowered == "first name":
        name = client.preferred_name or client.full_name.split(" ")[0]
        return name or "the client"
    if client is not None and lowered == "initials":
        initials = "".join(f"{p[0].upper()}." for p in client.full_name.split() if p)
        return initials or "the client"
    if not choice or lowered in {"first name", "initials"}:
        return "the client"
    return choice


def layout_at(section_text: str, cursor: int, default: str) -> tuple[str, str]:
    """("paragraph" or "list", the lead) for text inserted at ``cursor``: a list when
    the line at the cursor or the last non-empty line before it is a list item."""
    cursor = max(0, min(cursor, len(section_text)))
    before = section_text[:cursor]
    lines = [line for line in before.splitlines() if line.strip()]
    after_lines = [line for line in section_text[cursor:].splitlines() if line.strip()]
    near = lines[-1:] or after_lines[:1]
    layout = default
    if near:
        layout = "list" if is_list_line(near[0]) else "paragraph"
    if not before.strip():
        lead = ""
    elif layout == "list":
        lead = "" if before.endswith("\n") else "\n"
    else:
        lead = "" if before[-1].isspace() else " "
    return layout, lead


def line_lead(section_text: str, cursor: int) -> str:
    """What starts text that must begin on a line of its own at ``cursor``."""
    before = section_text[: max(0, min(cursor, len(section_text)))]
    return "\n" if before.strip() and not before.endswith("\n") else ""


def style_for(
    preferences: NotePreferences,
    clinician: ClinicianProfile,
    client: ClientProfile | None,
    section_text: str,
    cursor: int,
    default_layout: str,
) -> Style:
    levels = _levels()
    detail = levels["detail_levels"][_DETAILS.get(preferences.detail_level, "standard")]
    assert isinstance(detail, dict)
    quotes = levels["direct_quotes"].get(_QUOTES.get(preferences.direct_quotes, "a_few"))
    pronouns = (client.pronouns if client is not None else "") or (
        preferences.client_pronouns
    )
    who = clinician_phrase(preferences, clinician)
    layout, lead = layout_at(section_text, cursor, default_layout)
    return Style(
        clinician=who,
        first_person=who == "I",
        client=client_phrase(preferences, client),
        pronouns=pronouns,
        sentences=int(detail["sentences"]),
        max_tokens=int(detail["max_tokens"]),
        max_quotes=int(quotes) if isinstance(quotes, int) else 1,
        layout=layout,
        lead=lead,
    )
