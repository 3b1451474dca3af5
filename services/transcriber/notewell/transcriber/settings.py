"""The transcriber's settings, read from its environment."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from notewell.platform.settings import PlatformSettings


class Settings(PlatformSettings):
    service_name: str = Field("transcriber", alias="SERVICE_NAME")

    # Consumer group on session.ended, and with "-consent" appended on
    # consent.withdrawn; every replica shares them.
    group_id: str = Field("transcriber", alias="KAFKA_GROUP_ID")

    # A partner file larger than this is refused rather than read into memory.
    max_transcript_bytes: int = Field(20 * 1024 * 1024, alias="MAX_TRANSCRIPT_BYTES")

    # An audio track larger than this is refused (about 6 h of 64 kbit/s audio).
    max_recording_bytes: int = Field(200 * 1024 * 1024, alias="MAX_RECORDING_BYTES")

    # "local": faster-whisper on this machine; "openai": an OpenAI-compatible
    # /audio/transcriptions endpoint.
    stt_backend: Literal["local", "openai"] = Field("local", alias="STT_BACKEND")

    # A CTranslate2 Whisper model folder; empty means the packaged tiny.en model.
    whisper_model_path: str = Field("", alias="WHISPER_MODEL_PATH")
    whisper_threads: int = Field(2, alias="WHISPER_THREADS")
    whisper_compute_type: str = Field("int8", alias="WHISPER_COMPUTE_TYPE")
    whisper_beam_size: int = Field(1, alias="WHISPER_BEAM_SIZE")

    stt_openai_base_url: str = Field("", alias="STT_OPENAI_BASE_URL")
    stt_openai_api_key: str = Field("", alias="STT_OPENAI_API_KEY")
    stt_openai_model: str = Field("whisper-1", alias="STT_OPENAI_MODEL")

    # Audio is transcribed in chunks of about this length, each one's result stored
    # before the next starts, so a crash resumes at the first unfinished chunk.
    chunk_seconds: float = Field(120.0, alias="STT_CHUNK_SECONDS")

    # How long audio is kept after its transcript is stored; 0 deletes it at once.
    recording_retention_hours: float = Field(0.0, alias="RECORDING_RETENTION_HOURS")
