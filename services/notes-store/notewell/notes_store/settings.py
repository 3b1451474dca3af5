"""The notes store's settings, read from its environment."""

from __future__ import annotations

from pydantic import Field

from notewell.platform.settings import PlatformSettings


class Settings(PlatformSettings):
    service_name: str = Field("notes-store", alias="SERVICE_NAME")

    # Consumer group on draft.created; every replica shares it. consent.withdrawn is
    # consumed in the group "<this>-consent".
    group_id: str = Field("notes-store", alias="KAFKA_GROUP_ID")

    # How long an unwrapped data key stays in memory. A shredded key keeps working in
    # a running replica for at most this long.
    data_key_cache_seconds: float = Field(60.0, alias="DATA_KEY_CACHE_SECONDS")

    # Holds back the outbox relay after start-up; for failure drills and tests that
    # stop the store between writing a note and publishing it.
    outbox_relay_start_delay_seconds: float = Field(
        0.0, alias="OUTBOX_RELAY_START_DELAY_SECONDS"
    )

    # Holds back the audit relay after start-up, likewise: changes' audit entries stay
    # queued in their notes until it runs.
    audit_relay_start_delay_seconds: float = Field(
        0.0, alias="AUDIT_RELAY_START_DELAY_SECONDS"
    )

    # The services (by the name in their service token) that may read clients'
    # context through NotesContext, comma separated. NotesContext is served only when
    # SERVICE_AUTH_SECRET is set.
    notes_context_allowed_services: str = Field(
        "drafter,prompts", alias="NOTES_CONTEXT_ALLOWED_SERVICES"
    )

    def notes_context_callers(self) -> set[str]:
        return {
            name.strip()
            for name in self.notes_context_allowed_services.split(",")
            if name.strip()
        }
