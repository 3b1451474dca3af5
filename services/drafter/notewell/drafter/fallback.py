"""The extractive draft, assembled in code from the transcript when the model cannot
write one, so the clinician always has a starting point."""

from __future__ import annotations

import re

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.soap import NOT_ADDRESSED, Section

TITLE_MARK = "[Extractive draft – model unavailable]"
ASSESSMENT = "Not generated: the model was unavailable; review the transcript."

CLIENT_QUOTES = 3
PLAN_QUOTES = 5
QUOTE_CHARS = 400

_INNER_QUOTES = re.compile(r"[“”\"]")
_NEXT_STEPS = re.compile(
    r"\b(homework|assignment|practi[cs]e|worksheet|journal(?:ing)?|log|track|"
    r"next (?:session|time|week|appointment)|between (?:now and|sessions)|"
    r"before we meet|this week|follow[- ]up|see you (?:next|on|then|in)|"
    r"schedule[d]?|plan|goal|"
    r"try (?:to|and|doing|using)|keep (?:doing|using|practi[cs]ing))\b",
    re.IGNORECASE,
)


def extractive_sections(transcript: Transcript, session_facts: str) -> list[Section]:
    spoken = [u for u in transcript.utterances if u.text.strip()]
    client = [u for u in spoken if u.role == SpeakerRole.SPEAKER_ROLE_CLIENT]
    by_length = sorted(
        range(len(client)), key=lambda i: len(client[i].text), reverse=True
    )
    # Quotes read in the order they were said.
    chosen = [client[i] for i in sorted(by_length[:CLIENT_QUOTES])]
    steps = [
        u
        for u in spoken
        if u.role == SpeakerRole.SPEAKER_ROLE_CLINICIAN and _NEXT_STEPS.search(u.text)
    ][:PLAN_QUOTES]
    return [
        _quoting("subjective", "Client", chosen),
        Section("objective", session_facts),
        Section("assessment", ASSESSMENT),
        _quoting("plan", "Therapist", steps),
    ]


def _quoting(key: str, speaker: str, utterances: list[Utterance]) -> Section:
    if not utterances:
        return Section(key, NOT_ADDRESSED)
    lines = [f"{speaker} ({u.id}): {_quotation(u.text)}" for u in utterances]
    return Section(key, "\n".join(lines), tuple(u.id for u in utterances if u.id))


def _quotation(text: str) -> str:
    """The utterance word for word in quote marks; a very long one is cut at a space,
    the cut shown outside the quotation. Double quotes inside become single ones, so
    the quotation stays one pair of marks."""
    text = _INNER_QUOTES.sub("'", " ".join(text.split()))
    if len(text) <= QUOTE_CHARS:
        return f"“{text}”"
    return f"“{text[:QUOTE_CHARS].rsplit(' ', 1)[0]}” …"
