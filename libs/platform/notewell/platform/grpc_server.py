"""Starting a gRPC server with the standard health and reflection services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

Registration = tuple[Callable[[Any, grpc.aio.Server], None], Any, str]


async def start_grpc_server(
    port: int, registrations: list[Registration], host: str = "0.0.0.0"
) -> tuple[grpc.aio.Server, int]:
    """Starts a server with each (add_servicer_fn, servicer, full_service_name) and the
    health service reporting SERVING for all of them. Port 0 picks a free port; the
    bound port is returned."""
    server = grpc.aio.server()
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    names = [health_pb2.DESCRIPTOR.services_by_name["Health"].full_name]
    for add, servicer, name in registrations:
        add(servicer, server)
        names.append(name)
    reflection.enable_server_reflection([*names, reflection.SERVICE_NAME], server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    for name in ["", *names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return server, bound
