"""Streamed answers from an OpenAI-compatible chat completions endpoint.

``ChatModel`` owns the client; ``ChatModel.stream`` opens one answer as an async
iterator of text pieces that enforces two limits: the first piece must arrive within
``LLM_TIMEOUT_SECONDS`` of the request (the prompt is read in that time), and each later
piece within ``LLM_STALL_SECONDS`` of being asked for. Either limit raises
``TimeoutError``; the endpoint's refusals and connection failures raise
``openai.APIError``. Nothing here logs, so no prompt or answer text can reach a log.

Leaving a stream early closes its HTTP response, which also makes a llama.cpp server
stop generating (it finishes a plain request even after its caller gave up).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import openai
from openai import AsyncOpenAI

from notewell.platform.settings import LLMSettings

Messages = list[dict[str, str]]

# What a failed answer raises: the endpoint's errors and the two time limits.
MODEL_ERRORS: tuple[type[Exception], ...] = (openai.APIError, TimeoutError)


@dataclass(frozen=True)
class Completion:
    """A whole answer: its text, why it ended ("stop", or "length" when cut off at
    ``max_tokens``) and how many chunks it came in."""

    text: str
    finish_reason: str | None
    chunks: int


class ChatModel:
    """The chat model named by ``LLM_MODEL`` at ``OPENAI_BASE_URL``, sampled with
    ``LLM_TEMPERATURE`` and, when it is not 0, ``LLM_TOP_K``. The client never retries:
    callers decide whether a failed answer is worth another attempt."""

    def __init__(self, settings: LLMSettings) -> None:
        self._settings = settings
        self._client = AsyncOpenAI(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            # The asyncio limits of ModelStream decide; this only backs them up.
            timeout=settings.llm_timeout_seconds + settings.llm_stall_seconds,
            max_retries=0,
        )

    async def close(self) -> None:
        await self._client.close()

    def stream(
        self,
        messages: Messages,
        max_tokens: int,
        response_format: dict[str, Any] | None = None,
    ) -> ModelStream:
        """One answer, requested when its first piece is asked for. Use it as
        ``async with model.stream(...) as pieces: async for piece in pieces``, so the
        response is closed however the iteration ends."""
        settings = self._settings
        request: dict[str, Any] = {
            "model": settings.llm_model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": settings.llm_temperature,
            "stream": True,
        }
        if response_format is not None:
            request["response_format"] = response_format
        if settings.llm_top_k:
            request["extra_body"] = {"top_k": settings.llm_top_k}
        return ModelStream(
            self._client,
            request,
            settings.llm_timeout_seconds,
            settings.llm_stall_seconds,
        )

    async def complete(
        self,
        messages: Messages,
        max_tokens: int,
        response_format: dict[str, Any] | None = None,
    ) -> Completion:
        """The whole answer, streamed under the same limits as ``stream``."""
        async with self.stream(messages, max_tokens, response_format) as pieces:
            text = "".join([piece async for piece in pieces])
        return Completion(text, pieces.finish_reason, pieces.chunks)


class ModelStream(AsyncIterator[str]):
    """The text pieces of one answer, in order; empty pieces are skipped.

    After the iteration ``finish_reason`` tells why the answer ended and ``chunks``
    how many chunks the endpoint sent. ``aclose()`` (or leaving ``async with``) closes
    the response; calling it again does nothing.
    """

    def __init__(
        self,
        client: AsyncOpenAI,
        request: dict[str, Any],
        first_piece_seconds: float,
        stall_seconds: float,
    ) -> None:
        self.finish_reason: str | None = None
        self.chunks = 0
        self._client = client
        self._request = request
        self._first_piece_seconds = first_piece_seconds
        self._stall_seconds = stall_seconds
        self._first_piece_deadline: float | None = None
        self._response: openai.AsyncStream[Any] | None = None
        self._chunks: AsyncIterator[Any] | None = None
        self._closed = False

    async def __aenter__(self) -> ModelStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        self._closed = True
        response, self._response, self._chunks = self._response, None, None
        if response is not None:
            await response.close()

    async def __anext__(self) -> str:
        if self._closed:
            raise StopAsyncIteration
        loop = asyncio.get_running_loop()
        while True:
            if self.chunks == 0:
                # The request and the first chunk share one limit, counted from the
                # first time a piece is asked for.
                if self._first_piece_deadline is None:
                    self._first_piece_deadline = loop.time() + self._first_piece_seconds
                limit = asyncio.timeout_at(self._first_piece_deadline)
            else:
                # Only the wait for the endpoint counts, not the caller's own time
                # between pieces.
                limit = asyncio.timeout(self._stall_seconds)
            async with limit:
                chunks = self._chunks
                if chunks is None:
                    self._response = await self._client.chat.completions.create(
                        **self._request
                    )
                    chunks = self._chunks = aiter(self._response)
                try:
                    chunk = await anext(chunks)
                except StopAsyncIteration:
                    await self.aclose()
                    raise
            self.chunks += 1
            for choice in chunk.choices[:1]:
                if choice.finish_reason:
                    self.finish_reason = choice.finish_reason
                if choice.delta and choice.delta.content:
                    content: str = choice.delta.content
                    return content
