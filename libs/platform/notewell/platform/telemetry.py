"""OpenTelemetry tracing. Span attributes carry ids only."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter


def configure_tracing(service: str) -> trace.Tracer:
    """Installs a tracer provider for the service and returns its tracer.

    OTEL_TRACES_EXPORTER=console prints spans (for debugging); any OTLP exporter the
    platform team installs can be wired the same way. The default exports nothing.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if os.environ.get("OTEL_TRACES_EXPORTER", "none") == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)
