from __future__ import annotations

from pydantic import Field

from notewell.platform.settings import PlatformSettings


class Settings(PlatformSettings):
    service_name: str = Field("prompts", alias="SERVICE_NAME")
