"""Calls to the OpenAI-compatible language model, answered as JSON under a schema."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai import AsyncOpenAI

from notewell.drafter.settings import Settings
from notewell.platform.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")

Messages = list[dict[str, str]]


class InvalidModelOutput(Exception):
    """The model's answer does not have the expected shape. Carries no content."""


class ModelUnavailable(Exception):
    """Every attempt failed: unreachable, timed out, refused, or unusable answers."""


_RETRYABLE = (openai.APIError, InvalidModelOutput, TimeoutError)


@dataclass(frozen=True)
class _Answer:
    content: str
    finish_reason: str | None
    chunks: int


class LanguageModel:
    """Asks for JSON matching a schema, retrying with exponential backoff.

    The schema travels as ``{"type": "json_object", "schema": ...}``, the form both
    llama.cpp (which turns it into a grammar) and hosted endpoints accept; llama.cpp
    answers ``json_schema`` with HTTP 500.

    Answers are streamed. An attempt fails when the first piece takes longer than
    ``LLM_TIMEOUT_SECONDS`` (the prompt is read in that time) or the stream then stalls
    for ``LLM_STALL_SECONDS``; an answer that keeps coming, however slowly on a busy
    machine, is not thrown away. Closing a stream also stops the generation on a
    llama.cpp server, which finishes a plain request even after its caller gave up and
    would hold up the retry behind it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Retries are ours (counted, logged, backed off), not the client's.
        self._client = AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            # The asyncio limits in _stream decide; this only backs them up.
            timeout=settings.llm_timeout_seconds + settings.llm_stall_seconds,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    async def answer(
        self,
        purpose: str,
        messages: Messages,
        schema: dict[str, Any],
        max_tokens: int,
        parse: Callable[[str], T],
    ) -> T:
        """``parse`` of the model's answer text (raising InvalidModelOutput when it is
        unusable); ModelUnavailable after the last attempt.

        ``purpose`` names the call in logs ("note", "condense"); nothing of the prompt or
        the answer is logged.
        """
        settings = self._settings
        for attempt in range(1, settings.llm_max_attempts + 1):
            started = time.monotonic()
            answer: _Answer | None = None
            try:
                answer = await self._stream(messages, schema, max_tokens)
                result = parse(answer.content)
            except _RETRYABLE as exc:
                log.warning(
                    "model_call_failed",
                    extra={
                        "purpose": purpose,
                        "attempt": attempt,
                        "error_type": type(exc).__name__,
                        "seconds": round(time.monotonic() - started, 2),
                        # "length" means the answer was cut off at max_tokens.
                        "finish_reason": answer.finish_reason if answer else None,
                    },
                )
            else:
                log.info(
                    "model_call_done",
                    extra={
                        "purpose": purpose,
                        "attempt": attempt,
                        "seconds": round(time.monotonic() - started, 2),
                        "chunks": answer.chunks,
                        "finish_reason": answer.finish_reason,
                    },
                )
                return result
            if attempt < settings.llm_max_attempts:
                await asyncio.sleep(settings.llm_backoff_seconds * 2 ** (attempt - 1))
        raise ModelUnavailable(
            f"{purpose}: no usable answer after {settings.llm_max_attempts} attempts"
        )

    async def _stream(
        self, messages: Messages, schema: dict[str, Any], max_tokens: int
    ) -> _Answer:
        settings = self._settings
        extra_body = {"top_k": settings.llm_top_k} if settings.llm_top_k else None
        # Typed loosely: the client's types know only OpenAI's own response formats.
        response_format: Any = {"type": "json_object", "schema": schema}
        chat: Any = messages
        parts: list[str] = []
        finish_reason: str | None = None
        chunks = 0
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(settings.llm_timeout_seconds) as limit:
            stream = await self._client.chat.completions.create(
                model=settings.llm_model,
                messages=chat,
                response_format=response_format,
                max_tokens=max_tokens,
                temperature=settings.llm_temperature,
                extra_body=extra_body,
                stream=True,
            )
            async with stream:
                async for chunk in stream:
                    chunks += 1
                    limit.reschedule(loop.time() + settings.llm_stall_seconds)
                    for choice in chunk.choices[:1]:
                        if choice.delta and choice.delta.content:
                            parts.append(choice.delta.content)
                        if choice.finish_reason:
                            finish_reason = choice.finish_reason
        return _Answer("".join(parts), finish_reason, chunks)


def load_json(content: str) -> Any:
    """The answer as JSON, or InvalidModelOutput (never quoting the answer)."""
    try:
        return json.loads(content)
    except json.JSONDecodeError:
        # The decoder's message quotes the answer.
        raise InvalidModelOutput("answer is not valid JSON") from None
