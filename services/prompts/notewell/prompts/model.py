"""Streaming plain text from the OpenAI-compatible language model."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from notewell.platform.llm import MODEL_ERRORS, ChatModel, Messages
from notewell.platform.logs import get_logger
from notewell.prompts.settings import Settings

log = get_logger(__name__)


class ModelUnavailable(Exception):
    """The model could not be reached, refused, timed out or stalled. Carries no
    content."""


class LanguageModel:
    """One attempt per prompt, streamed: the clinician is waiting at the cursor, so a
    failure is answered in code from the computed facts instead of retried.

    The first piece must arrive within ``LLM_TIMEOUT_SECONDS`` and each later one
    within ``LLM_STALL_SECONDS`` (notewell.platform.llm). Leaving the iteration early
    (the caller cancelled) closes the HTTP stream, which makes a llama.cpp server stop
    generating.
    """

    def __init__(self, settings: Settings) -> None:
        self._model = ChatModel(settings)

    async def close(self) -> None:
        await self._model.close()

    async def stream(self, messages: Messages, max_tokens: int) -> AsyncIterator[str]:
        """The answer's text as it is generated; ModelUnavailable on any failure."""
        started = time.monotonic()
        outcome = "failed"
        answer = self._model.stream(messages, max_tokens)
        try:
            async with answer as pieces:
                async for piece in pieces:
                    yield piece
            outcome = "done"
        except MODEL_ERRORS as exc:
            log.warning(
                "prompt_model_failed",
                extra={
                    "error_type": type(exc).__name__,
                    "seconds": round(time.monotonic() - started, 2),
                    "chunks": answer.chunks,
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
                        "chunks": answer.chunks,
                    },
                )
