"""The notes store's settings, read from its environment."""

from __future__ import annotations

from notewell.platform.settings import PlatformSettings
from pydantic import Field


class Settings(PlatformSettings):
    service_name: str = Field("notes-store", alias="SERVICE_NAME")

    # Consumer group on draft.created; every replica shares it.
    group_id: str = Field("notes-store", alias="KAFKA_GROUP_ID")
