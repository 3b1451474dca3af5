from __future__ import annotations

from pydantic import Field

from notewell.platform.settings import LLMSettings, PlatformSettings


class Settings(PlatformSettings, LLMSettings):
    """The prompts service's settings; where the model is, how it samples and its
    time limits come from LLMSettings, with its defaults."""

    service_name: str = Field("prompts", alias="SERVICE_NAME")
    # Consumer group for measurement.recorded and wearable.summary.
    group_id: str = Field("prompts", alias="PROMPTS_GROUP_ID")

    # Signed notes read as grounding for one prompt, newest first (the store hands
    # out at most 20).
    context_notes: int = Field(8, ge=1, le=20, alias="PROMPTS_CONTEXT_NOTES")

    # The most tokens one answer may take; the clinician's detail level asks for fewer.
    prompt_max_tokens: int = Field(400, gt=0, alias="LLM_PROMPT_MAX_TOKENS")
