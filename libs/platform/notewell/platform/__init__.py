"""Shared building blocks for notewell services: settings, logs, telemetry, crypto,
event encoding, the outbox relay, authentication and gRPC serving."""
