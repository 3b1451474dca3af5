"""Writing the draft: the model's SOAP note from the transcript (condensed first when it
is long), checked against the transcript, or the extractive draft when the model fails."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from notewell.common.v1.common_pb2 import Transcript
from notewell.drafter import prompts
from notewell.drafter.checks import check_sections
from notewell.drafter.condensing import Condenser, Line, material_chars
from notewell.drafter.evidence import transcript_ids
from notewell.drafter.fallback import extractive_sections
from notewell.drafter.model import LanguageModel, ModelUnavailable
from notewell.drafter.settings import Settings
from notewell.drafter.soap import Section, note_schema, parse_note
from notewell.drafter.transcript import CHARS_PER_TOKEN, utterance_label
from notewell.platform.logs import get_logger

log = get_logger(__name__)

# Each round shrinks the material several times over; three cover any real session.
MAX_CONDENSING_ROUNDS = 3


@dataclass(frozen=True)
class Draft:
    sections: list[Section]
    # True when the model could not write the note and the draft was assembled in code.
    extractive_fallback: bool


class Drafter:
    def __init__(self, model: LanguageModel, settings: Settings) -> None:
        self._model = model
        self._settings = settings
        self._condenser = Condenser(
            model, settings.chunk_tokens, settings.condense_max_tokens
        )

    async def draft(
        self, session_id: str, transcript: Transcript, session_facts: str
    ) -> Draft:
        """A checked draft; never fails for want of the model."""
        try:
            async with asyncio.timeout(self._settings.llm_draft_deadline_seconds):
                sections = await self._write(transcript, session_facts)
            fallback = False
        except (ModelUnavailable, TimeoutError) as exc:
            log.warning(
                "draft_falling_back",
                extra={"session_id": session_id, "error_type": type(exc).__name__},
            )
            sections = extractive_sections(transcript, session_facts)
            fallback = True

        checked, report = check_sections(sections, transcript)
        log.info(
            "draft_checked",
            extra={
                "session_id": session_id,
                "extractive_fallback": fallback,
                "dropped_ids": report.dropped_ids,
                "removed_quotes": report.removed_quotes,
                "emptied_sections": report.emptied_sections,
            },
        )
        return Draft(checked, fallback)

    async def _write(self, transcript: Transcript, session_facts: str) -> list[Section]:
        known = transcript_ids(transcript)
        material = [
            Line(utterance_label(u), " ".join(u.text.split()))
            for u in transcript.utterances
            if u.text.strip()
        ]
        budget = self._settings.transcript_budget_tokens * CHARS_PER_TOKEN
        rounds = 0
        while material_chars(material) > budget:
            # The note is never written from a cut transcript: condense instead.
            if rounds == MAX_CONDENSING_ROUNDS:
                raise ModelUnavailable("condensed points still exceed the budget")
            before = material_chars(material)
            material = await self._condenser.condense(
                material, known, from_points=rounds > 0
            )
            rounds += 1
            if not material:
                raise ModelUnavailable("condensing found nothing to write from")
            log.info(
                "transcript_condensed",
                extra={
                    "round": rounds,
                    "chars_before": before,
                    "chars_after": material_chars(material),
                },
            )

        messages = prompts.note_messages(
            [line.render() for line in material], rounds > 0, session_facts
        )
        return await self._model.answer(
            "note",
            messages,
            note_schema(known),
            self._settings.note_max_tokens,
            parse_note,
        )
