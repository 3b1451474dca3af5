"""A session too long for one prompt is condensed chunk by chunk, never cut."""

from __future__ import annotations

import json
import random
import re
from typing import Any

import pytest

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.drafter.transcript import CHARS_PER_TOKEN

pytestmark = pytest.mark.asyncio

CONTEXT_TOKENS = 8192

SUBJECTS = [
    "I",
    "My sister",
    "My manager",
    "The doctor",
    "My partner",
    "We",
    "My neighbour",
    "The whole team",
    "My father",
    "Nobody at home",
]
VERBS = [
    "talked about",
    "worried about",
    "kept thinking about",
    "avoided",
    "planned",
    "remembered",
    "argued over",
    "laughed about",
    "wrote down",
    "put off",
]
OBJECTS = [
    "the move to the new flat",
    "the project deadline",
    "my sleep schedule",
    "the weekend trip",
    "the bills that keep piling up",
    "the dog's vet visit",
    "the family dinner on Sunday",
    "the new medication routine",
    "the long commute",
    "the allotment garden",
    "the school reunion",
]
TAILS = [
    "last Tuesday",
    "most evenings",
    "before work",
    "after the call",
    "during lunch",
    "again this morning",
    "for hours",
    "without telling anyone",
    "when the rain started",
    "on the bus home",
]


def long_session(words: int) -> list[tuple[int, str]]:
    rng = random.Random(11)
    turns: list[tuple[int, str]] = []
    count = 0
    while count < words:
        role = (
            SpeakerRole.SPEAKER_ROLE_CLINICIAN
            if len(turns) % 2 == 0
            else SpeakerRole.SPEAKER_ROLE_CLIENT
        )
        sentences = [
            f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
            f"{rng.choice(TAILS)}."
            for _ in range(rng.randint(2, 6))
        ]
        text = " ".join(sentences)
        turns.append((role, text))
        count += len(text.split())
    return turns


def _cited(prompt: str) -> list[str]:
    return re.findall(r"^\[(u\d+)\] (?:CLIENT|THERAPIST):", prompt, re.MULTILINE)


def scripted_reply(
    messages: list[dict[str, Any]], response_format: dict[str, Any] | None
) -> str:
    """Points citing the chunk's own utterances, or a note citing the points' ids."""
    schema = (response_format or {})["schema"]
    prompt = messages[-1]["content"]
    if "points" in schema["properties"]:
        ids = _cited(prompt)
        quarter = max(1, len(ids) // 4)
        groups = [ids[i : i + quarter] for i in range(0, len(ids), quarter)][:4]
        return json.dumps(
            {
                "points": [
                    {
                        "text": "The client described ongoing stress about daily life.",
                        "utterance_ids": [group[0], group[-1]],
                    }
                    for group in groups
                ]
            }
        )
    point_ids = re.findall(
        r"u\d+", "\n".join(line for line in prompt.splitlines() if line.startswith("[u"))
    )
    return json.dumps(
        {
            key: {
                "text": f"{key} from the condensed points.",
                "utterance_ids": [*point_ids[:3], "u999999"],
            }
            for key in ("subjective", "objective", "assessment", "plan")
        }
    )


async def test_a_long_session_is_condensed_and_the_note_prompt_fits(harness) -> None:
    settings = harness.settings
    turns = long_session(8000)
    transcript = harness.transcript(turns)
    all_ids = {u.id for u in transcript.utterances}
    transcript_chars = sum(len(u.text) for u in transcript.utterances)
    assert transcript_chars / CHARS_PER_TOKEN > 3 * settings.transcript_budget_tokens

    harness.llm.respond = scripted_reply
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=90)
    note = harness.open_note(created)
    assert not note.extractive_fallback

    condensing = harness.llm.requests_for("points")
    writing = harness.llm.requests_for("subjective")
    assert len(condensing) >= 4
    assert len(writing) == 1
    # Condensing came first, and nothing else was asked.
    assert harness.llm.calls == len(condensing) + 1
    assert harness.llm.requests[-1] is writing[0]

    # Every utterance went to some condensing call: nothing was cut.
    seen: list[str] = []
    for request in condensing:
        seen.extend(_cited(request.prompt))
        material = [
            line for line in request.prompt.splitlines() if re.match(r"^\[u\d+\] ", line)
        ]
        assert sum(len(line) + 1 for line in material) <= (
            settings.chunk_tokens * CHARS_PER_TOKEN
        )
        assert (
            len(request.prompt) / CHARS_PER_TOKEN + request.body["max_tokens"]
        ) < CONTEXT_TOKENS
    assert set(seen) == all_ids
    assert len(seen) == len(all_ids)

    # The note was written from the points alone, within the budget and the context.
    prompt = writing[0].prompt
    assert "Key points of the session" in prompt
    assert not _cited(prompt)
    points = [line for line in prompt.splitlines() if line.startswith("[u")]
    assert len(points) >= len(condensing)
    assert sum(len(line) + 1 for line in points) <= (
        settings.transcript_budget_tokens * CHARS_PER_TOKEN
    )
    assert (
        len(prompt) / CHARS_PER_TOKEN + writing[0].body["max_tokens"]
    ) < CONTEXT_TOKENS

    for section in note.sections:
        assert section.evidence.utterance_ids
        assert set(section.evidence.utterance_ids) <= all_ids
