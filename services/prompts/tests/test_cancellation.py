from __future__ import annotations

import asyncio
import time

import grpc
import pytest

from notewell.prompts.v1.prompts_pb2 import RunPromptRequest
from tests.support.scripted_llm import Trickle

pytestmark = pytest.mark.asyncio

# Far longer than the test waits: only closing the stream ends it early.
LONG_ANSWER = "Recent notes describe sleep improving with a diary. " + (
    "Work stress continues with a difficult manager and is worth exploring further. " * 40
)


async def test_cancelling_the_call_closes_the_model_stream(harness) -> None:
    client_id = await harness.full_client(with_scores=False)
    harness.llm.reply(Trickle(LONG_ANSWER, pause=0.1))

    call = harness.prompts.RunPrompt(
        RunPromptRequest(prompt_id="patterns.themes", client_id=client_id),
        metadata=harness.as_clinician(),
    )
    first = await call.read()
    # The first sentence arrives while the model is still writing.
    assert first.text == "Recent notes describe sleep improving with a diary."
    assert harness.llm.closed_streams == 0
    call.cancel()

    deadline = time.monotonic() + 10
    while harness.llm.closed_streams == 0:
        assert time.monotonic() < deadline, "the model stream was never closed"
        await asyncio.sleep(0.1)
    assert harness.llm.closed_streams == 1
    assert await call.code() == grpc.StatusCode.CANCELLED


async def test_another_clinicians_client_is_not_found(harness) -> None:
    client_id = await harness.full_client()

    for clinician in ("dr-bo", "dr-cy"):
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await harness.run("summaries.history", client_id, clinician_id=clinician)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await harness.insights(client_id, clinician_id=clinician)
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    # A client nobody recorded anything about is not found either.
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.insights("c-unknown")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert harness.llm.calls == 0
