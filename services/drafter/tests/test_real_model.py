"""One draft written by the real local model (llama.cpp serving Qwen2.5-Coder-1.5B)."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from notewell.clinical.quotes import QuoteIndex, find_quotations
from notewell.drafter.formats import NOT_ADDRESSED
from notewell.drafter.settings import Settings

pytestmark = [pytest.mark.asyncio, pytest.mark.llm]


@pytest.fixture
def settings(service_env: dict[str, str], llm_env: dict[str, str]) -> Settings:
    """The real model in place of the scripted one (which then sits idle)."""
    env = dict(service_env)
    env.update(
        OPENAI_BASE_URL=llm_env["OPENAI_BASE_URL"],
        OPENAI_API_KEY=llm_env["OPENAI_API_KEY"],
        LLM_MODEL=llm_env["LLM_MODEL"],
        # On two shared cores reading the prompt can take minutes when other work
        # competes; one patient attempt shows what the model does, a retry only adds.
        LLM_TIMEOUT_SECONDS="400",
        LLM_MAX_ATTEMPTS="1",
        DRAFTER_GROUP_ID=f"drafter-{uuid.uuid4().hex[:8]}",
    )
    return Settings(**env)


async def test_the_real_model_drafts_a_checked_soap_note(harness) -> None:
    transcript = harness.transcript()
    started = time.monotonic()
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=450)
    seconds = time.monotonic() - started

    note = harness.open_note(created)
    print(f"\nreal model: draft.created {seconds:.1f} s after transcript.ready")
    for section in note.sections:
        print(f"  {section.key} {list(section.evidence.utterance_ids)}: {section.text}")

    assert harness.llm.calls == 0
    # Written by the model, not assembled by the fallback.
    assert not note.extractive_fallback
    assert [s.key for s in note.sections] == [
        "session",
        "subjective",
        "objective",
        "assessment",
        "plan",
        "safety",
    ]
    assert all(s.text.strip() for s in note.sections)
    assert note.sections[1].text != NOT_ADDRESSED
    assert "Suggested CPT code: 90834" in note.sections[0].text

    ids = {u.id for u in transcript.utterances}
    spoken = QuoteIndex(list(transcript.utterances))
    for section in note.sections[1:-1]:
        assert set(section.evidence.utterance_ids) <= ids
        quotations = find_quotations(section.text)
        for quotation in quotations:
            assert spoken.spoken(quotation.words)
        # No unpaired quote marks are left to pass off unverified words as a quote.
        rest = section.text
        for quotation in reversed(quotations):
            rest = rest[: quotation.start] + rest[quotation.end :]
        assert not re.search(r"[“”\"]", rest)
    # The default preferences allow a few quotations in the whole note.
    assert sum(len(find_quotations(s.text)) for s in note.sections[1:-1]) <= 2
