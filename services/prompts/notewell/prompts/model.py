"""Streaming plain text from the OpenAI-compatible language model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
from openai import AsyncOpenAI

from notewell.platform.logs import get_logger
from notewell.prompts.settings import Settings

log = get_logger(__name__)

Messages = list[dict[str, str]]


class ModelUnavailable(Exception):
    """The model could not be reached, refused, timed out or stalled. Carries no
    content."""


class LanguageModel:
    """One attempt per prompt, streamed: the clinician is waiting at the cursor, so a
    failure is answered in code from the computed facts instead of retried.

    The first piece must arrive within ``LLM_TIMEOUT_SECONDS`` and each later one
    within ``LLM_STALL_SECONDS``. Leaving the iteration early (the caller cancelled)
    closes the HTTP stream, which makes a llama.cpp server stop generating.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client = AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            timeout=settings.llm_timeout_seconds + settings.llm_stall_seconds,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    async def stream(self, messages: Messages, max_tokens: int) -> AsyncIterator[str]:
        """The answer's text as it is generated; ModelUnavailable on any failure."""
        settings = self._settings
        extra_body = {"top_k": settings.llm_top_k} if settings.llm_top_k else None
        chat: Any = messages
        started = time.monotonic()
        chunks = 0
        outcome = "failed"
        try:
            async with asyncio.timeout(settings.llm_timeout_seconds):
                stream = await self._client.chat.completions.create(
                    model=settings.llm_model,
                    messages=chat,
                    max_tokens=max_tokens,
                    temperature=settings.llm_temperature,
                    extra_body=extra_body,
                    stream=True,
                )
            async with stream:
                pieces = aiter(stream)
                wait = settings.llm_timeout_seconds
                while True:
                    try:
                        async with asyncio.timeout(wait):
                            chunk = await anext(pieces)
                    except StopAsyncIteration:
                        break
                    chunks += 1
                    wait = settings.llm_stall_seconds
                    for choice in chunk.choices[:1]:
                        if choice.delta and choice.delta.content:
                            yield choice.delta.content
            outcome = "done"
        except (openai.APIError, TimeoutError) as exc:
            log.warning(
                "prompt_model_failed",
                extra={
                    "error_type": type(exc).__name__,
                    "seconds": round(time.monotonic() - started, 2),
                    "chunks": chunks,
                },
            )
            raise ModelUnavailable("the language model did not answer") from None
        except (GeneratorExit, asyncio.CancelledError):
            outcome = "closed"
            raise
        finally:
            if outcome != "failed":
                log.info(
                    "prompt_model_" + outcome,
                    extra={
                        "seconds": round(time.monotonic() - started, 2),
                        "chunks": chunks,
                    },
                )
