from __future__ import annotations

import pytest
from pydantic import ValidationError

from notewell.drafter.settings import Settings


def test_defaults_suit_the_local_model() -> None:
    settings = Settings()
    assert settings.llm_max_attempts == 3
    # Transcript, instructions and context items (about 1,500 tokens at most) and the
    # longest answer fit the local model's context of 8,192 tokens.
    assert settings.transcript_budget_tokens + 1500 + settings.note_max_tokens <= 8192
    assert settings.max_poll_interval_ms >= 20 * 60 * 1000
    assert settings.topic("transcript.ready") == "transcript.ready"


def test_the_draft_deadline_must_fit_within_the_poll_interval() -> None:
    with pytest.raises(ValidationError):
        Settings(LLM_DRAFT_DEADLINE_SECONDS="1200", DRAFTER_MAX_POLL_INTERVAL_MS="600000")
