"""Clients for the data stores a service owns, built from settings."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import boto3
from botocore.config import Config
from pymongo import AsyncMongoClient

from notewell.platform.settings import PlatformSettings


def mongo_client(settings: PlatformSettings) -> AsyncMongoClient[dict[str, Any]]:
    return AsyncMongoClient(settings.mongodb_uri, tz_aware=True)


def s3_client(settings: PlatformSettings) -> Any:
    secret = settings.aws_secret_access_key
    return boto3.client(
        "s3",
        region_name=settings.aws_region,
        endpoint_url=settings.s3_endpoint_url,
        aws_access_key_id=settings.aws_access_key_id,
        aws_secret_access_key=secret.get_secret_value() if secret else None,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


class BadS3Uri(ValueError):
    pass


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://bucket/key`` URI."""
    parsed = urlparse(uri)
    key = parsed.path.lstrip("/")
    if parsed.scheme != "s3" or not parsed.netloc or not key:
        raise BadS3Uri("expected s3://bucket/key")
    return parsed.netloc, key
