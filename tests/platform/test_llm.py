"""notewell.platform.llm against the scripted model server: pieces, requests, the
first-piece and stall limits, failures and closing early."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import openai
import pytest

from notewell.platform.llm import ChatModel
from notewell.platform.settings import LLMSettings
from tests.support.scripted_llm import Fail, Hang, ScriptedLLM, Trickle

pytestmark = pytest.mark.asyncio

MESSAGES = [
    {"role": "system", "content": "Answer briefly."},
    {"role": "user", "content": "How did the week go?"},
]
# 16 characters a chunk on the scripted server: 5 pieces.
ANSWER = "Sleep improved after the diary; work stress continues, mostly Mondays."


@pytest.fixture
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM() as scripted:
        yield scripted


def _settings(llm: ScriptedLLM, **extra: str) -> LLMSettings:
    values = {
        "OPENAI_BASE_URL": llm.base_url,
        "OPENAI_API_KEY": "test-key",
        "LLM_MODEL": "scripted-model",
        "LLM_TIMEOUT_SECONDS": "5",
        "LLM_STALL_SECONDS": "5",
        **extra,
    }
    return LLMSettings(**values)  # type: ignore[arg-type]


async def test_pieces_arrive_in_order_with_the_finish_reason(llm) -> None:
    llm.reply(ANSWER)
    model = ChatModel(_settings(llm))
    try:
        async with model.stream(MESSAGES, 120) as pieces:
            received = [piece async for piece in pieces]
    finally:
        await model.close()
    assert received == [ANSWER[i : i + 16] for i in range(0, len(ANSWER), 16)]
    assert pieces.finish_reason == "stop"
    # Five text chunks and the closing one that carries only the finish reason.
    assert pieces.chunks == 6


async def test_the_request_carries_the_settings_and_the_schema(llm) -> None:
    llm.reply('{"points": []}')
    settings = _settings(llm, LLM_TEMPERATURE="0.3", LLM_TOP_K="12")
    schema = {"type": "object", "properties": {"points": {"type": "array"}}}
    model = ChatModel(settings)
    try:
        completion = await model.complete(
            MESSAGES, 77, {"type": "json_object", "schema": schema}
        )
    finally:
        await model.close()
    assert completion.text == '{"points": []}'
    assert completion.finish_reason == "stop"
    assert completion.chunks == 2
    (request,) = llm.requests
    assert request.messages == MESSAGES
    assert request.body["model"] == "scripted-model"
    assert request.body["max_tokens"] == 77
    assert request.body["temperature"] == 0.3
    assert request.body["top_k"] == 12
    assert request.body["stream"] is True
    assert request.response_format == {"type": "json_object", "schema": schema}
    assert request.schema == schema


async def test_top_k_0_and_no_format_leave_the_fields_out(llm) -> None:
    llm.reply("plain")
    model = ChatModel(_settings(llm, LLM_TOP_K="0"))
    try:
        completion = await model.complete(MESSAGES, 10)
    finally:
        await model.close()
    assert completion.text == "plain"
    (request,) = llm.requests
    assert "top_k" not in request.body
    assert "response_format" not in request.body


async def test_no_first_piece_in_time_is_a_timeout(llm) -> None:
    llm.reply(Hang(30))
    model = ChatModel(_settings(llm, LLM_TIMEOUT_SECONDS="0.5"))
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            await model.complete(MESSAGES, 10)
    finally:
        await model.close()
    assert 0.5 <= time.monotonic() - started < 3
    assert llm.calls == 1


async def test_a_slow_but_steady_answer_outlasts_the_first_piece_limit(llm) -> None:
    # 5 pieces and the end, 0.2 s apart: about 1.2 s, more than either limit.
    llm.reply(Trickle(ANSWER, pause=0.2))
    model = ChatModel(_settings(llm, LLM_TIMEOUT_SECONDS="0.6", LLM_STALL_SECONDS="0.6"))
    started = time.monotonic()
    try:
        completion = await model.complete(MESSAGES, 120)
    finally:
        await model.close()
    assert time.monotonic() - started > 1.0
    assert completion.text == ANSWER
    assert completion.finish_reason == "stop"


async def test_a_stall_after_the_first_piece_is_a_timeout(llm) -> None:
    # The first piece after 1 s is within the first-piece limit; the second, 1 s later,
    # is past the stall limit.
    llm.reply(Trickle(ANSWER, pause=1.0))
    model = ChatModel(_settings(llm, LLM_TIMEOUT_SECONDS="3", LLM_STALL_SECONDS="0.4"))
    received: list[str] = []
    started = time.monotonic()
    try:
        with pytest.raises(TimeoutError):
            async with model.stream(MESSAGES, 120) as pieces:
                async for piece in pieces:
                    received.append(piece)
    finally:
        await model.close()
    assert received == [ANSWER[:16]]
    assert 1.3 <= time.monotonic() - started < 3
    # The abandoned response was closed: the server sees it at its next write.
    await _wait_for(lambda: llm.closed_streams == 1)


async def test_the_callers_own_time_between_pieces_is_not_a_stall(llm) -> None:
    llm.reply(Trickle(ANSWER, pause=0.05))
    model = ChatModel(_settings(llm, LLM_STALL_SECONDS="0.3"))
    received: list[str] = []
    try:
        async with model.stream(MESSAGES, 120) as pieces:
            async for piece in pieces:
                received.append(piece)
                # Longer than the stall limit, spent by the caller, not the model.
                await asyncio.sleep(0.5)
    finally:
        await model.close()
    assert "".join(received) == ANSWER


async def test_a_refusal_is_an_api_error_with_its_status(llm) -> None:
    llm.reply(Fail(503))
    model = ChatModel(_settings(llm))
    try:
        with pytest.raises(openai.APIStatusError) as raised:
            await model.complete(MESSAGES, 10)
    finally:
        await model.close()
    assert raised.value.status_code == 503
    # One attempt: retrying is the caller's decision.
    assert llm.calls == 1


async def test_leaving_early_closes_the_response(llm) -> None:
    llm.reply(Trickle(ANSWER * 20, pause=0.1))
    model = ChatModel(_settings(llm))
    try:
        async with model.stream(MESSAGES, 500) as pieces:
            async for piece in pieces:
                assert piece == ANSWER[:16]
                break
        await _wait_for(lambda: llm.closed_streams == 1)
        # A closed stream has nothing more to give, and closing again does nothing.
        assert [piece async for piece in pieces] == []
        await pieces.aclose()
        assert pieces.finish_reason is None
    finally:
        await model.close()


async def _wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)
