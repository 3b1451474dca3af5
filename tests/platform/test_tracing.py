"""Trace export: the exporter names OTEL_TRACES_EXPORTER accepts, and OTLP/gRPC spans
reaching a collector at OTEL_EXPORTER_OTLP_ENDPOINT."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

from notewell.platform.telemetry import span_exporter
from tests.support.otlp_collector import OtlpCollector, attributes


@pytest.fixture
def collector() -> Iterator[OtlpCollector]:
    running = OtlpCollector()
    running.start()
    try:
        yield running
    finally:
        running.stop()


def test_exporter_names() -> None:
    assert span_exporter("none") is None
    assert isinstance(span_exporter("console"), ConsoleSpanExporter)
    assert isinstance(span_exporter(" OTLP "), OTLPSpanExporter)
    with pytest.raises(ValueError, match="none, console, otlp"):
        span_exporter("zipkin")


def test_otlp_spans_reach_the_endpoint_from_the_environment(
    collector: OtlpCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.endpoint)
    exporter = span_exporter("otlp")
    assert exporter is not None
    provider = TracerProvider(resource=Resource.create({"service.name": "drafter"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("drafter.transcript_ready") as span:
        span.set_attribute("session_id", "s-123")
    provider.shutdown()

    received = collector.wait_for_span("drafter.transcript_ready")
    assert attributes(received.attributes) == {"session_id": "s-123"}
    assert [service for service, _ in collector.spans()] == ["drafter"]


def test_configure_tracing_exports_over_otlp_when_asked(collector: OtlpCollector) -> None:
    # A process of its own: the global tracer provider can be installed only once.
    script = (
        "from opentelemetry import trace\n"
        "from notewell.platform.telemetry import configure_tracing\n"
        "tracer = configure_tracing('transcriber')\n"
        "with tracer.start_as_current_span('transcriber.session_ended') as span:\n"
        "    span.set_attribute('session_id', 's-9')\n"
        "trace.get_tracer_provider().shutdown()\n"
    )
    env = {
        **os.environ,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint,
    }
    subprocess.run([sys.executable, "-c", script], env=env, check=True, timeout=60)

    received = collector.wait_for_span("transcriber.session_ended")
    assert attributes(received.attributes) == {"session_id": "s-9"}
    assert [service for service, _ in collector.spans()] == ["transcriber"]
