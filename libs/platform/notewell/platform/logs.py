"""Structured JSON logging. Log an event name with id-only fields; never protected text.

log = get_logger(__name__)
log.info("draft_created", extra={"session_id": sid})
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            # The type only: exception messages can quote the data that caused them.
            entry["exc_type"] = record.exc_info[0].__name__
        return json.dumps(entry, default=str)


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Library loggers can include payloads at debug level; keep them at warning.
    for noisy in (
        "aiokafka",
        "faststream",
        "pymongo",
        "botocore",
        "urllib3",
        "httpx",
        "httpx2",
        "httpcore",
        "httpcore2",
        "openai",
        "weasyprint",
        "fontTools",
        "grpc",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.getLogger(service).setLevel(level.upper())


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
