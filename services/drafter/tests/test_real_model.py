"""One draft written by the real local model (llama.cpp serving Qwen2.5-Coder-1.5B)."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from notewell.drafter.checks import QUOTED, QuoteIndex
from notewell.drafter.settings import Settings
from notewell.drafter.soap import NOT_ADDRESSED

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
        "subjective",
        "objective",
        "assessment",
        "plan",
    ]
    assert all(s.text.strip() for s in note.sections)
    assert note.sections[0].text != NOT_ADDRESSED

    ids = {u.id for u in transcript.utterances}
    spoken = QuoteIndex(transcript)
    for section in note.sections:
        assert set(section.evidence.utterance_ids) <= ids
        for quote in QUOTED.findall(section.text):
            assert spoken.spoken(quote)
        # No unpaired quote marks are left to pass off unverified words as a quote.
        assert not re.search(r"[“”\"]", QUOTED.sub("", section.text))
