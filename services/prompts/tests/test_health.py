from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from notewell.prompts.app import PromptsApp
from notewell.prompts.settings import Settings

pytestmark = pytest.mark.asyncio


async def test_health_check_reports_serving(settings: Settings) -> None:
    app = PromptsApp(settings)
    await app.start()
    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{app.grpc_port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for service in ("", "notewell.prompts.v1.Prompts"):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=service))
                assert reply.status == health_pb2.HealthCheckResponse.SERVING
            unknown = stub.Check(health_pb2.HealthCheckRequest(service="no.such.Service"))
            with pytest.raises(grpc.aio.AioRpcError) as err:
                await unknown
            assert err.value.code() == grpc.StatusCode.NOT_FOUND
    finally:
        await app.stop()
        await app.stop()
