"""Calls to the OpenAI-compatible language model, answered as JSON under a schema."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from notewell.drafter.settings import Settings
from notewell.platform.llm import MODEL_ERRORS, ChatModel, Completion, Messages
from notewell.platform.logs import get_logger

log = get_logger(__name__)

T = TypeVar("T")


class InvalidModelOutput(Exception):
    """The model's answer does not have the expected shape. Carries no content."""


class ModelUnavailable(Exception):
    """Every attempt failed: unreachable, timed out, refused, or unusable answers."""


_RETRYABLE = (*MODEL_ERRORS, InvalidModelOutput)


class LanguageModel:
    """Asks for JSON matching a schema, retrying with exponential backoff.

    The schema travels as ``{"type": "json_object", "schema": ...}``, the form both
    llama.cpp (which turns it into a grammar) and hosted endpoints accept; llama.cpp
    answers ``json_schema`` with HTTP 500.

    Answers are streamed (notewell.platform.llm). An attempt fails when the first piece
    takes longer than ``LLM_TIMEOUT_SECONDS`` (the prompt is read in that time) or the
    stream then stalls for ``LLM_STALL_SECONDS``; an answer that keeps coming, however
    slowly on a busy machine, is not thrown away. A failed attempt's stream is closed,
    which also stops the generation on a llama.cpp server, so it does not hold up the
    retry behind it.
    """

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._model = ChatModel(settings)

    async def close(self) -> None:
        await self._model.close()

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
        response_format = {"type": "json_object", "schema": schema}
        for attempt in range(1, settings.llm_max_attempts + 1):
            started = time.monotonic()
            answer: Completion | None = None
            try:
                answer = await self._model.complete(messages, max_tokens, response_format)
                result = parse(answer.text)
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


def load_json(content: str) -> Any:
    """The answer as JSON, or InvalidModelOutput (never quoting the answer)."""
    try:
        return json.loads(content)
    except json.JSONDecodeError:
        # The decoder's message quotes the answer.
        raise InvalidModelOutput("answer is not valid JSON") from None
