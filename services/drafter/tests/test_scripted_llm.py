"""The scripted model stand-in behaves as the OpenAI client expects."""

from __future__ import annotations

import json
import time
import urllib.request

import openai
import pytest
from openai import OpenAI

from tests.support.scripted_llm import Fail, Hang, ScriptedLLM


def _client(llm: ScriptedLLM, timeout: float = 5.0) -> OpenAI:
    return OpenAI(base_url=llm.base_url, api_key="x", timeout=timeout, max_retries=0)


def _ask(client: OpenAI, stream: bool = False) -> str:
    messages = [{"role": "user", "content": "Say hi"}]
    fmt = {"type": "json_object", "schema": {"type": "object"}}
    if not stream:
        reply = client.chat.completions.create(
            model="m",
            messages=messages,
            response_format=fmt,  # type: ignore[arg-type]
        )
        return reply.choices[0].message.content or ""
    chunks = client.chat.completions.create(
        model="m",
        messages=messages,
        response_format=fmt,
        stream=True,  # type: ignore[arg-type]
    )
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_queue_then_respond_then_unscripted_failure() -> None:
    with ScriptedLLM(replies=['{"a": 1}']) as llm:
        client = _client(llm)
        assert _ask(client) == '{"a": 1}'
        llm.respond = lambda messages, fmt: f'{{"n": {len(messages)}}}'
        assert _ask(client, stream=True) == '{"n": 1}'
        llm.respond = None
        with pytest.raises(openai.InternalServerError):
            _ask(client)
        assert llm.unscripted == 1
        assert [r.messages[0]["content"] for r in llm.requests] == ["Say hi"] * 3
        assert llm.requests[0].schema == {"type": "object"}
        assert llm.requests[1].body["stream"] is True


def test_failures_and_hangs_are_switchable() -> None:
    with ScriptedLLM() as llm:
        client = _client(llm, timeout=0.5)
        llm.reply(Fail(503), Hang(), '{"ok": true}')
        with pytest.raises(openai.APIStatusError) as failed:
            _ask(client)
        assert failed.value.status_code == 503
        with pytest.raises(openai.APITimeoutError):
            _ask(client)
        assert _ask(client) == '{"ok": true}'

        llm.fail_all(500)
        llm.reply('{"queued": true}')
        with pytest.raises(openai.InternalServerError):
            _ask(client)
        llm.hang_all()
        started = time.monotonic()
        with pytest.raises(openai.APITimeoutError):
            _ask(client)
        assert time.monotonic() - started < 3
        llm.recover()
        assert _ask(client) == '{"queued": true}'
        assert llm.calls == 6


def test_models_endpoint_answers_for_readiness_probes() -> None:
    with ScriptedLLM() as llm:
        with urllib.request.urlopen(f"{llm.base_url}/models", timeout=5) as reply:
            listed = json.load(reply)
        assert listed["data"][0]["id"] == "scripted-model"
