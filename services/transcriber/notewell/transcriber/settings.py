"""The transcriber's settings, read from its environment."""

from __future__ import annotations

from notewell.platform.settings import PlatformSettings
from pydantic import Field


class Settings(PlatformSettings):
    service_name: str = Field("transcriber", alias="SERVICE_NAME")

    # Consumer group on session.ended; every replica shares it.
    group_id: str = Field("transcriber", alias="KAFKA_GROUP_ID")

    # A partner file larger than this is refused rather than read into memory.
    max_transcript_bytes: int = Field(20 * 1024 * 1024, alias="MAX_TRANSCRIPT_BYTES")
