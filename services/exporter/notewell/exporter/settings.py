"""The exporter's settings, read from its environment."""

from __future__ import annotations

from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator

from notewell.platform.settings import PlatformSettings


class Settings(PlatformSettings):
    service_name: str = Field("exporter", alias="SERVICE_NAME")

    # Consumer group on note.saved; every replica shares it.
    group_id: str = Field("exporter", alias="KAFKA_GROUP_ID")

    # Where the PDFs go; created at start when missing.
    export_bucket: str = Field("notewell-exports", alias="EXPORT_BUCKET")
    # With a KMS key the objects are encrypted with SSE-KMS, otherwise with SSE-S3.
    export_kms_key_id: str | None = Field(None, alias="EXPORT_KMS_KEY_ID")
    # The S3 endpoint as the clinician's browser reaches it, used only to sign links
    # (the signature covers the host). Unset, links name S3_ENDPOINT_URL, or AWS's own
    # regional endpoint when that is unset too.
    s3_public_endpoint_url: str | None = Field(None, alias="S3_PUBLIC_ENDPOINT_URL")
    # Lifetime of the presigned links ExportNote returns; short, as they carry PHI.
    export_url_ttl_seconds: int = Field(300, ge=1, le=900, alias="EXPORT_URL_TTL_SECONDS")
    # The time zone dates and times are printed in (an IANA name).
    export_timezone: str = Field("UTC", alias="EXPORT_TIMEZONE")

    notes_store_timeout_seconds: float = Field(
        10.0, gt=0, alias="NOTES_STORE_TIMEOUT_SECONDS"
    )

    @field_validator("s3_public_endpoint_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        parsed = urlparse(value)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("S3_PUBLIC_ENDPOINT_URL must be an http(s) URL")
        return value

    @field_validator("export_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("EXPORT_TIMEZONE must be an IANA time zone name") from None
        return value
