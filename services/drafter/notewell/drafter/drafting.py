"""Writing the draft: the model's note under the clinician's headings and in their
voice (from condensed points when the session is long), checked against the
transcript and context, between a Session section and a Safety section written in
code; or the extractive draft when the model fails.

Used in-process (the evaluation harness does) as::

    drafter = Drafter(LanguageModel(settings), settings)
    draft = await drafter.draft(
        session_id,                  # str, for logs only
        transcript,                  # notewell.common.v1.Transcript
        facts,                       # notewell.common.v1.SessionFacts
        note_format=formats.BUILT_IN["DAP"],  # or formats.from_template(template)
        voice=resolve_voice(preferences, clinician_profile, client_profile),
        context=DraftContext(items=..., measures=..., wearables=...),
    )
    draft.sections      # [Session, <format headings...>, Safety], each a Section
    draft.extractive_fallback

``note_format``, ``voice`` and ``context`` default to SOAP, the default preferences
and no context.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from notewell.common.v1.common_pb2 import SessionFacts, Transcript
from notewell.drafter import prompts
from notewell.drafter.checks import (
    CheckReport,
    check_extractive,
    check_note,
    safety_section,
)
from notewell.drafter.condensing import Condenser, prepare_material
from notewell.drafter.context import NO_CONTEXT, DraftContext
from notewell.drafter.evidence import transcript_ids
from notewell.drafter.fallback import extractive_sections
from notewell.drafter.formats import (
    SESSION_KEY,
    SOAP,
    NoteFormat,
    Section,
    SectionSize,
    note_schema,
    parse_note,
    section_size,
)
from notewell.drafter.model import LanguageModel, ModelUnavailable
from notewell.drafter.session_facts import describe, session_lines
from notewell.drafter.settings import Settings
from notewell.drafter.voice import DEFAULT_VOICE, Voice
from notewell.platform.logs import get_logger

log = get_logger(__name__)

SESSION_TITLE = "Session"
# Output tokens of a sentence of note text with its JSON quoting, and of a heading's
# JSON and ids.
TOKENS_PER_SENTENCE = 32
TOKENS_PER_HEADING = 60
# A section's sentences get at least the room of the longest one the schema allows
# (MAX_SENTENCE_CHARS, about 55 tokens): a single sentence may run to it.
MIN_SECTION_TOKENS = 2 * TOKENS_PER_SENTENCE


@dataclass(frozen=True)
class Draft:
    # The Session section, the format's headings in order, then the Safety section.
    sections: list[Section]
    # True when the model could not write the note and the draft was assembled in code.
    extractive_fallback: bool
    note_format: NoteFormat = SOAP
    context: DraftContext = NO_CONTEXT


def note_size(
    note_format: NoteFormat, voice: Voice, transcript: Transcript, ceiling: int
) -> SectionSize:
    """Sentences per section for the clinician's detail level, as far as the session
    supports it, lowered until the longest answer the schema allows fits ``ceiling``
    tokens."""
    headings = len(note_format.headings)
    words = sum(len(u.text.split()) for u in transcript.utterances)
    size = section_size(voice.detail.target_words, headings, words)
    while size.max_sentences > 1 and _answer_tokens(size, headings) > ceiling:
        size = SectionSize(
            min(size.min_sentences, size.max_sentences - 1), size.max_sentences - 1
        )
    return size


def note_max_tokens(note_format: NoteFormat, size: SectionSize, ceiling: int) -> int:
    """The answer's token limit: room for the longest answer the schema allows."""
    return min(_answer_tokens(size, len(note_format.headings)), ceiling)


def _answer_tokens(size: SectionSize, headings: int) -> int:
    sentences = max(size.max_sentences * TOKENS_PER_SENTENCE, MIN_SECTION_TOKENS)
    return headings * (sentences + TOKENS_PER_HEADING)


def session_section(facts: SessionFacts) -> Section:
    return Section(SESSION_KEY, SESSION_TITLE, "\n".join(session_lines(facts)))


class Drafter:
    def __init__(self, model: LanguageModel, settings: Settings) -> None:
        self._model = model
        self._settings = settings
        self._condenser = Condenser(
            model, settings.chunk_tokens, settings.condense_max_tokens
        )

    async def draft(
        self,
        session_id: str,
        transcript: Transcript,
        facts: SessionFacts,
        note_format: NoteFormat = SOAP,
        voice: Voice = DEFAULT_VOICE,
        context: DraftContext = NO_CONTEXT,
    ) -> Draft:
        """A checked draft; never fails for want of the model."""
        try:
            async with asyncio.timeout(self._settings.llm_draft_deadline_seconds):
                written = await self._write(
                    transcript, facts, note_format, voice, context
                )
            fallback = False
        except (ModelUnavailable, TimeoutError) as exc:
            log.warning(
                "draft_falling_back",
                extra={"session_id": session_id, "error_type": type(exc).__name__},
            )
            written = extractive_sections(transcript, note_format, context)
            fallback = True

        if fallback:
            checked = check_extractive(written, transcript, voice)
            report = CheckReport()
        else:
            checked, report = check_note(
                written,
                transcript,
                context,
                voice,
                voice.quotes.max_quotes,
                describe(facts),
            )
        log.info(
            "draft_checked",
            extra={
                "session_id": session_id,
                "format": note_format.name,
                "extractive_fallback": fallback,
                "context_items": len(context.items),
                "dropped_ids": report.dropped_ids,
                "removed_quotes": report.removed_quotes,
                "removed_statements": report.removed_statements,
                "emptied_sections": report.emptied_sections,
            },
        )
        sections = [
            session_section(facts),
            *checked,
            safety_section(transcript, voice),
        ]
        return Draft(sections, fallback, note_format, context)

    async def _write(
        self,
        transcript: Transcript,
        facts: SessionFacts,
        note_format: NoteFormat,
        voice: Voice,
        context: DraftContext,
    ) -> list[Section]:
        known = transcript_ids(transcript)
        material, kind = await prepare_material(
            transcript, self._condenser, self._settings
        )

        ceiling = self._settings.note_max_tokens
        size = note_size(note_format, voice, transcript, ceiling)
        messages = prompts.note_messages(
            [line.render() for line in material],
            kind.value,
            describe(facts),
            note_format,
            voice,
            size,
            context.items,
        )
        return await self._model.answer(
            "note",
            messages,
            note_schema(
                note_format, known, context.ids, size, (voice.clinician, voice.client)
            ),
            note_max_tokens(note_format, size, ceiling),
            lambda content: parse_note(note_format, content),
        )
