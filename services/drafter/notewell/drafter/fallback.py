"""The extractive draft, assembled in code when the model cannot write one, so the
clinician always has a starting point: verbatim client quotes and computed scores
under the format's first heading, the therapist's next steps under its last, and a
plain "not generated" under the headings between. The drafter adds the Session and
Safety sections as it does to every draft."""

from __future__ import annotations

import re

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.context import DraftContext
from notewell.drafter.formats import NOT_ADDRESSED, NoteFormat, Section

TITLE_MARK = "[Extractive draft – model unavailable]"
SECTION_MARK = "[Extractive – verbatim excerpts and computed scores only]"
NOT_GENERATED = "Not generated: the model was unavailable; review the transcript."

CLIENT_QUOTES = 3
PLAN_QUOTES = 5
QUOTE_CHARS = 400
# Context items carrying figures computed in code; earlier notes are left out.
SCORE_PREFIXES = ("measure:", "wearable:")

_INNER_QUOTES = re.compile(r"[“”\"]")
_NEXT_STEPS = re.compile(
    r"\b(homework|assignment|practi[cs]e|worksheet|journal(?:ing)?|log|track|"
    r"next (?:session|time|week|appointment)|between (?:now and|sessions)|"
    r"before we meet|this week|follow[- ]up|see you (?:next|on|then|in)|"
    r"schedule[d]?|plan|goal|"
    r"try (?:to|and|doing|using)|keep (?:doing|using|practi[cs]ing))\b",
    re.IGNORECASE,
)


def extractive_sections(
    transcript: Transcript, note_format: NoteFormat, context: DraftContext
) -> list[Section]:
    """One section per heading of ``note_format``, in order."""
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
    scores = [i for i in context.items if i.id.startswith(SCORE_PREFIXES)]

    opening = [SECTION_MARK, *_quote_lines("Client", chosen)]
    opening += [f"{item.text} [{item.id}]" for item in scores]
    opening_ids = tuple(u.id for u in chosen if u.id)
    score_ids = tuple(item.id for item in scores)
    closing = _quote_lines("Therapist", steps)
    closing_ids = tuple(u.id for u in steps if u.id)

    headings = note_format.headings
    if len(headings) == 1:
        [only] = headings
        return [
            Section(
                only.key,
                only.title,
                "\n".join(opening + closing),
                opening_ids + closing_ids,
                score_ids,
            )
        ]
    first, *middle, last = headings
    return [
        Section(first.key, first.title, "\n".join(opening), opening_ids, score_ids),
        *(Section(h.key, h.title, NOT_GENERATED) for h in middle),
        Section(last.key, last.title, "\n".join(closing) or NOT_ADDRESSED, closing_ids),
    ]


def _quote_lines(speaker: str, utterances: list[Utterance]) -> list[str]:
    return [f"{speaker} ({u.id}): {_quotation(u.text)}" for u in utterances]


def _quotation(text: str) -> str:
    """The utterance word for word in quote marks; a very long one is cut at a space,
    the cut shown outside the quotation. Double quotes inside become single ones, so
    the quotation stays one pair of marks."""
    text = _INNER_QUOTES.sub("'", " ".join(text.split()))
    if len(text) <= QUOTE_CHARS:
        return f"“{text}”"
    return f"“{text[:QUOTE_CHARS].rsplit(' ', 1)[0]}” …"
