from __future__ import annotations

from pydantic import Field

from notewell.platform.settings import PlatformSettings


class Settings(PlatformSettings):
    service_name: str = Field("prompts", alias="SERVICE_NAME")
    # Consumer group for measurement.recorded and wearable.summary.
    group_id: str = Field("prompts", alias="PROMPTS_GROUP_ID")

    # Signed notes read as grounding for one prompt, newest first (the store hands
    # out at most 20).
    context_notes: int = Field(8, ge=1, le=20, alias="PROMPTS_CONTEXT_NOTES")

    openai_base_url: str = Field("http://127.0.0.1:8080/v1", alias="OPENAI_BASE_URL")
    openai_api_key: str = Field("local", alias="OPENAI_API_KEY")
    llm_model: str = Field("qwen2.5-coder-1.5b-instruct", alias="LLM_MODEL")
    # Wait for the first piece of an answer (the prompt is read in that time), then the
    # longest pause allowed between pieces. Past either, the answer is assembled in
    # code from the computed facts.
    llm_timeout_seconds: float = Field(60.0, gt=0, alias="LLM_TIMEOUT_SECONDS")
    llm_stall_seconds: float = Field(20.0, gt=0, alias="LLM_STALL_SECONDS")
    llm_temperature: float = Field(0.2, ge=0, alias="LLM_TEMPERATURE")
    # Sent as an extra body field (llama.cpp's sampler); 0 leaves it out.
    llm_top_k: int = Field(40, ge=0, alias="LLM_TOP_K")
    # The most tokens one answer may take; the clinician's detail level asks for fewer.
    prompt_max_tokens: int = Field(400, gt=0, alias="LLM_PROMPT_MAX_TOKENS")
