"""Settings the exporter refuses to start with."""

from __future__ import annotations

import pytest

from notewell.exporter.settings import Settings


def test_link_lifetime_defaults_to_five_minutes_and_is_capped_at_fifteen(service_env):
    assert Settings(**service_env).export_url_ttl_seconds == 300
    assert (
        Settings(**service_env, EXPORT_URL_TTL_SECONDS="900").export_url_ttl_seconds
        == 900
    )
    with pytest.raises(ValueError, match="EXPORT_URL_TTL_SECONDS"):
        Settings(**service_env, EXPORT_URL_TTL_SECONDS="901")
    with pytest.raises(ValueError, match="EXPORT_URL_TTL_SECONDS"):
        Settings(**service_env, EXPORT_URL_TTL_SECONDS="0")


def test_time_zone_must_be_a_known_zone(service_env):
    assert Settings(**service_env, EXPORT_TIMEZONE="Europe/Lisbon").export_timezone == (
        "Europe/Lisbon"
    )
    with pytest.raises(ValueError, match="IANA"):
        Settings(**service_env, EXPORT_TIMEZONE="Mars/Olympus_Mons")


def test_public_s3_endpoint_is_optional_and_must_be_a_web_address(service_env):
    assert Settings(**service_env).s3_public_endpoint_url is None
    assert (
        Settings(**service_env, S3_PUBLIC_ENDPOINT_URL="").s3_public_endpoint_url is None
    )
    public = "https://files.clinic.example"
    assert (
        Settings(**service_env, S3_PUBLIC_ENDPOINT_URL=public).s3_public_endpoint_url
        == public
    )
    with pytest.raises(ValueError, match="S3_PUBLIC_ENDPOINT_URL"):
        Settings(**service_env, S3_PUBLIC_ENDPOINT_URL="files.clinic.example")
