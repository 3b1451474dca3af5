"""The drafter facing a model that hangs, is slow or is down: always a draft."""

from __future__ import annotations

import time

import pytest

from notewell.common.v1.common_pb2 import SessionFacts
from notewell.drafter.drafting import Drafter
from notewell.drafter.model import LanguageModel
from notewell.drafter.settings import Settings
from tests.support.scripted_llm import Fail, Hang, Trickle

pytestmark = pytest.mark.asyncio


def _settings(llm, **extra: str) -> Settings:
    return Settings(
        OPENAI_BASE_URL=llm.base_url,
        LLM_BACKOFF_SECONDS="0.2",
        LLM_MAX_ATTEMPTS="3",
        **extra,
    )


async def test_a_hanging_model_times_out_into_the_fallback(llm, short_transcript) -> None:
    llm.hang_all()
    settings = _settings(llm, LLM_TIMEOUT_SECONDS="0.5")
    model = LanguageModel(settings)
    started = time.monotonic()
    try:
        draft = await Drafter(model, settings).draft(
            "s", short_transcript, SessionFacts()
        )
    finally:
        await model.close()
    elapsed = time.monotonic() - started
    assert draft.extractive_fallback
    assert llm.calls == 3
    # Three timeouts plus backoff of 0.2 s then 0.4 s.
    assert 2.0 <= elapsed < 10


async def test_backoff_doubles_between_attempts(llm, short_transcript, soap) -> None:
    llm.reply(Fail(500), Fail(503), soap())
    settings = _settings(llm)
    model = LanguageModel(settings)
    try:
        draft = await Drafter(model, settings).draft(
            "s", short_transcript, SessionFacts()
        )
    finally:
        await model.close()
    assert not draft.extractive_fallback
    arrivals = [r.received_at for r in llm.requests]
    assert len(arrivals) == 3
    first_pause, second_pause = arrivals[1] - arrivals[0], arrivals[2] - arrivals[1]
    assert 0.2 <= first_pause < 0.4 + 0.5
    assert 0.4 <= second_pause < 0.8 + 0.5


async def test_the_whole_draft_has_a_deadline(llm, short_transcript) -> None:
    llm.reply(Hang(30))
    settings = _settings(llm, LLM_TIMEOUT_SECONDS="20", LLM_DRAFT_DEADLINE_SECONDS="1")
    model = LanguageModel(settings)
    started = time.monotonic()
    try:
        draft = await Drafter(model, settings).draft(
            "s", short_transcript, SessionFacts()
        )
    finally:
        await model.close()
    assert draft.extractive_fallback
    assert time.monotonic() - started < 5
    assert llm.calls == 1


async def test_a_slow_but_steady_answer_is_not_cut_off(
    llm, short_transcript, soap
) -> None:
    # About 40 pieces 0.1 s apart: far longer than the wait for the first piece.
    llm.reply(Trickle(soap(), pause=0.1))
    settings = _settings(llm, LLM_TIMEOUT_SECONDS="1", LLM_STALL_SECONDS="1")
    model = LanguageModel(settings)
    started = time.monotonic()
    try:
        draft = await Drafter(model, settings).draft(
            "s", short_transcript, SessionFacts()
        )
    finally:
        await model.close()
    assert time.monotonic() - started > 2
    assert not draft.extractive_fallback
    assert llm.calls == 1


async def test_an_answer_that_stalls_is_abandoned(llm, short_transcript, soap) -> None:
    llm.reply(Trickle(soap(), pause=2.0), soap(plan="From the second attempt."))
    settings = _settings(llm, LLM_TIMEOUT_SECONDS="5", LLM_STALL_SECONDS="0.5")
    model = LanguageModel(settings)
    try:
        draft = await Drafter(model, settings).draft(
            "s", short_transcript, SessionFacts()
        )
    finally:
        await model.close()
    assert llm.calls == 2
    plan = next(s for s in draft.sections if s.key == "plan")
    assert plan.text == "From the second attempt."
