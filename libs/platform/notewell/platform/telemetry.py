"""OpenTelemetry tracing. Span attributes carry ids only."""

from __future__ import annotations

import os

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

EXPORTERS = ("none", "console", "otlp")


def configure_tracing(service: str) -> trace.Tracer:
    """Installs a tracer provider for the service and returns its tracer.

    OTEL_TRACES_EXPORTER picks where spans go: "none" (the default) exports nothing,
    "console" prints them to stdout, "otlp" sends them over OTLP/gRPC to
    OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), read by the
    exporter together with the other standard OTEL_EXPORTER_OTLP_* variables.
    """
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    exporter = span_exporter(os.environ.get("OTEL_TRACES_EXPORTER", "none"))
    if exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return trace.get_tracer(service)


def span_exporter(name: str) -> SpanExporter | None:
    """The exporter OTEL_TRACES_EXPORTER names; ValueError for one not in EXPORTERS."""
    name = name.strip().lower()
    if name == "none":
        return None
    if name == "console":
        return ConsoleSpanExporter()
    if name == "otlp":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter,
        )

        return OTLPSpanExporter()
    raise ValueError(f"OTEL_TRACES_EXPORTER must be one of {', '.join(EXPORTERS)}")
