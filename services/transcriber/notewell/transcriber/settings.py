"""The transcriber's settings, read from its environment."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

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

    # The longest audio a session may have, summed over its tracks (a two-track
    # recording of a 90-minute session is 3 h). Longer recordings are dead-lettered
    # with reason_code "recording_too_long" before their audio is decoded.
    max_audio_seconds: float = Field(
        3 * 3600.0, alias="TRANSCRIBER_MAX_AUDIO_SECONDS", gt=0
    )

    # Seconds of processing per second of audio on the deployed hardware, as
    # `python -m notewell_tools.bench_stt` reports it: 0.13 is tiny.en, int8, 2 threads.
    real_time_factor: float = Field(0.13, alias="TRANSCRIBER_REAL_TIME_FACTOR", gt=0)

    # A session.ended record is handled (its audio transcribed) between two polls of
    # the consumer; a consumer that does not poll within this time is evicted from
    # its group and the record goes to another replica, which starts over.
    max_poll_interval_ms: int = Field(
        30 * 60 * 1000, alias="TRANSCRIBER_MAX_POLL_INTERVAL_MS", gt=0
    )

    @model_validator(mode="after")
    def _longest_recording_fits_the_poll_interval(self) -> Self:
        worst = worst_case_seconds(self.max_audio_seconds, self.real_time_factor)
        if worst * 1000 > self.max_poll_interval_ms:
            raise ValueError(
                f"TRANSCRIBER_MAX_AUDIO_SECONDS {self.max_audio_seconds:g} at "
                f"TRANSCRIBER_REAL_TIME_FACTOR {self.real_time_factor:g} may take "
                f"{worst:.0f} s (with {HEADROOM:g}x headroom), longer than "
                f"TRANSCRIBER_MAX_POLL_INTERVAL_MS {self.max_poll_interval_ms}: raise "
                "the interval or lower the maximum"
            )
        return self


# Room for decoding, S3, speaker separation and a slower than benchmarked node.
HEADROOM = 1.25


def worst_case_seconds(max_audio_seconds: float, real_time_factor: float) -> float:
    """How long the longest allowed recording may take to transcribe."""
    return max_audio_seconds * real_time_factor * HEADROOM
