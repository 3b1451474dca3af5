from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from notewell.platform.settings import LLMSettings, PlatformSettings


class Settings(PlatformSettings, LLMSettings):
    service_name: str = Field("drafter", alias="SERVICE_NAME")
    group_id: str = Field("drafter", alias="DRAFTER_GROUP_ID")
    # A draft of a long session takes minutes on a small model; the consumer must not be
    # evicted from its group meanwhile. Keep it above LLM_DRAFT_DEADLINE_SECONDS.
    max_poll_interval_ms: int = Field(1_800_000, alias="DRAFTER_MAX_POLL_INTERVAL_MS")

    # A draft is long and read on a small CPU model: more time than the defaults.
    llm_timeout_seconds: float = Field(240.0, gt=0, alias="LLM_TIMEOUT_SECONDS")
    llm_stall_seconds: float = Field(60.0, gt=0, alias="LLM_STALL_SECONDS")
    llm_max_attempts: int = Field(3, ge=1, alias="LLM_MAX_ATTEMPTS")
    # Pause before the second attempt; doubled before each later one.
    llm_backoff_seconds: float = Field(2.0, ge=0, alias="LLM_BACKOFF_SECONDS")
    # The whole model-written draft (condensing included); past it, the extractive
    # fallback is used.
    llm_draft_deadline_seconds: float = Field(
        1500.0, gt=0, alias="LLM_DRAFT_DEADLINE_SECONDS"
    )
    # The ceiling of a note answer's token limit; below it the limit follows the
    # clinician's detail level and the number of headings.
    note_max_tokens: int = Field(1200, gt=0, alias="LLM_NOTE_MAX_TOKENS")
    # A chunk's points (at most six of under 15 words) take about 250 tokens.
    condense_max_tokens: int = Field(320, gt=0, alias="LLM_CONDENSE_MAX_TOKENS")
    # Estimated tokens (3 characters each) of compacted transcript the note prompt may
    # carry; longer transcripts are excerpted or condensed first. With the
    # instructions and the longest answer it stays well inside a model context of 8192
    # tokens, and a 1.5B model on two CPU cores reads such a prompt in under two
    # minutes (about 40 tokens a second at this length).
    transcript_budget_tokens: int = Field(
        4400, gt=0, alias="LLM_TRANSCRIPT_BUDGET_TOKENS"
    )
    # A transcript over the budget is shown as excerpts chosen in code ("excerpts"),
    # or condensed into points by the model chunk by chunk ("condense"), which reads
    # the whole session first: minutes longer on a CPU model.
    long_sessions: Literal["excerpts", "condense"] = Field(
        "excerpts", alias="DRAFTER_LONG_SESSIONS"
    )
    # Estimated tokens of compacted transcript per condensing call.
    chunk_tokens: int = Field(4500, gt=0, alias="LLM_CHUNK_TOKENS")

    @model_validator(mode="after")
    def _deadline_within_poll_interval(self) -> Settings:
        if self.llm_draft_deadline_seconds * 1000 >= self.max_poll_interval_ms:
            raise ValueError(
                "LLM_DRAFT_DEADLINE_SECONDS must be shorter than "
                "DRAFTER_MAX_POLL_INTERVAL_MS"
            )
        return self
