from __future__ import annotations

from notewell.platform.settings import PlatformSettings
from pydantic import Field


class Settings(PlatformSettings):
    service_name: str = Field("prompts", alias="SERVICE_NAME")
