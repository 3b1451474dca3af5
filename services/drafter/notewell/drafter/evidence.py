"""Evidence: the utterance ids a statement rests on."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from notewell.common.v1.common_pb2 import Transcript

_USUAL_ID = re.compile(r"u[0-9]+")


def transcript_ids(transcript: Transcript) -> frozenset[str]:
    return frozenset(u.id for u in transcript.utterances if u.id)


def known_ids(cited: Iterable[str], known: frozenset[str]) -> tuple[str, ...]:
    """The cited ids that exist, first mention first, each once."""
    seen: dict[str, None] = {}
    for raw in cited:
        utterance_id = raw.strip().strip("[]")
        if utterance_id in known:
            seen.setdefault(utterance_id, None)
    return tuple(seen)


def ids_schema(known: frozenset[str], most: int | None = None) -> dict[str, Any]:
    """JSON schema of a list of at most ``most`` utterance ids. When every id has the
    usual "u<n>" shape the grammar holds the model to it, which keeps a small model
    from citing prose."""
    item: dict[str, Any] = {"type": "string"}
    if known and all(_USUAL_ID.fullmatch(i) for i in known):
        item["pattern"] = "^u[0-9]+$"
    schema: dict[str, Any] = {"type": "array", "items": item}
    if most is not None:
        schema["maxItems"] = most
    return schema
