"""A session too long for one prompt is never cut: the note is written from excerpts
of every part of it, or from points condensed from it chunk by chunk."""

from __future__ import annotations

import itertools
import json
import math
import random
import re
from typing import Any

import pytest

from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.drafter.transcript import CHARS_PER_TOKEN, compact_lines, material_chars

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


LINE_ID = re.compile(r"^(u\d+) [TCO]:", re.MULTILINE)


def _cited(prompt: str) -> list[str]:
    """The utterance ids that open transcript lines in a prompt."""
    return LINE_ID.findall(prompt)


def _point_ids(prompt: str) -> list[str]:
    """The ids of the condensed points in a note prompt."""
    cited = "\n".join(line for line in prompt.splitlines() if line.startswith("[u"))
    return re.findall(r"u\d+", cited)


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
    point_ids = _point_ids(prompt) or _cited(prompt)
    return json.dumps(
        {
            key: {
                "sentences": [f"{key} from the session."],
                "utterance_ids": [*point_ids[:3], "u999999"],
            }
            for key in schema["properties"]
        }
    )


def _fits_context(request: Any) -> bool:
    # Judged at the real tokenizer's densest rate seen on AnnoMI, 3.2 characters a token.
    return len(request.prompt) / 3.2 + request.body["max_tokens"] < CONTEXT_TOKENS


@pytest.mark.parametrize("setting_overrides", [{"DRAFTER_LONG_SESSIONS": "condense"}])
async def test_a_long_session_is_condensed_in_one_round_and_the_note_prompt_fits(
    harness,
) -> None:
    settings = harness.settings
    turns = long_session(8000)
    transcript = harness.transcript(turns)
    all_ids = {u.id for u in transcript.utterances}
    size = material_chars(compact_lines(transcript))
    assert size / CHARS_PER_TOKEN > 2 * settings.transcript_budget_tokens

    harness.llm.respond = scripted_reply
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=90)
    note = harness.open_note(created)
    assert not note.extractive_fallback

    condensing = harness.llm.requests_for("points")
    writing = harness.llm.requests_for("subjective")
    assert len(condensing) == math.ceil(size / (settings.chunk_tokens * CHARS_PER_TOKEN))
    assert len(writing) == 1
    # One round of condensing came first, and nothing else was asked.
    assert harness.llm.calls == len(condensing) + 1
    assert harness.llm.requests[-1] is writing[0]

    # Every utterance went to exactly one condensing call: nothing was cut.
    seen: list[str] = []
    for number, request in enumerate(condensing, start=1):
        assert f"part {number} of {len(condensing)}" in request.prompt
        seen.extend(_cited(request.prompt))
        material = [line for line in request.prompt.splitlines() if LINE_ID.match(line)]
        assert sum(len(line) + 1 for line in material) <= (
            settings.chunk_tokens * CHARS_PER_TOKEN
        )
        assert request.body["max_tokens"] == settings.condense_max_tokens
        assert request.schema["properties"]["points"]["minItems"] == 3
        assert request.schema["properties"]["points"]["maxItems"] == 6
        assert _fits_context(request)
    assert sorted(seen) == sorted(all_ids)

    # The note was written from the points alone, within the budget and the context.
    prompt = writing[0].prompt
    assert "Key points of the session" in prompt
    assert not _cited(prompt)
    points = [line for line in prompt.splitlines() if line.startswith("[u")]
    assert len(points) == 4 * len(condensing)
    assert sum(len(line) + 1 for line in points) <= (
        settings.transcript_budget_tokens * CHARS_PER_TOKEN
    )
    assert _fits_context(writing[0])

    written = [s for s in note.sections if s.key in writing[0].schema["properties"]]
    assert len(written) == len(writing[0].schema["properties"])
    for section in written:
        # The unknown id the model added is gone; the rest are real utterances.
        assert section.evidence.utterance_ids
        assert set(section.evidence.utterance_ids) <= all_ids


async def test_a_long_session_is_drafted_from_excerpts_in_one_model_call(
    harness,
) -> None:
    settings = harness.settings
    turns = long_session(8000)
    # Risk language deep in the session, said once.
    middle = len(turns) // 2 + 1
    turns[middle] = (turns[middle][0], "Some nights I think about ending my life.")
    transcript = harness.transcript(turns)
    compacted = compact_lines(transcript)
    size = material_chars(compacted)
    assert size / CHARS_PER_TOKEN > 2 * settings.transcript_budget_tokens

    harness.llm.respond = scripted_reply
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=60)
    note = harness.open_note(created)
    assert not note.extractive_fallback

    # The note prompt was the only model call: nothing was condensed.
    [writing] = harness.llm.requests
    assert not harness.llm.requests_for("points")
    prompt = writing.prompt
    assert "Excerpts of the transcript" in prompt
    shown = [line for line in prompt.splitlines() if LINE_ID.match(line) or line == "…"]
    assert sum(len(line) + 1 for line in shown) <= (
        settings.transcript_budget_tokens * CHARS_PER_TOKEN
    )
    assert _fits_context(writing)

    # Each excerpt is its turn's own sentences, in order, under that turn's id.
    turns_by_id = {line.label.split()[0]: line.text for line in compacted}
    cited = _cited(prompt)
    assert cited == sorted(cited, key=lambda i: int(i[1:]))
    for line in shown:
        if line == "…":
            continue
        label, text = line.split(": ", 1)
        whole = turns_by_id[label.split()[0]]
        for sentence in text.split(" … "):
            assert sentence.strip(" …") in whole
    # The opening, the closing and the risk sentence are there.
    assert cited[:2] == [line.label.split()[0] for line in compacted[:2]]
    assert cited[-1] == compacted[-1].label.split()[0]
    assert "Some nights I think about ending my life." in prompt
    # Every part of the session is represented: no stretch of a fifth is left out.
    positions = [list(turns_by_id).index(i) for i in cited]
    assert max(b - a for a, b in itertools.pairwise(positions)) < len(compacted) / 5

    written = [s for s in note.sections if s.key in writing.schema["properties"]]
    for section in written:
        assert set(section.evidence.utterance_ids) <= set(cited)


async def test_a_session_within_the_budget_goes_to_the_note_compacted(harness) -> None:
    therapist, client = (
        SpeakerRole.SPEAKER_ROLE_CLINICIAN,
        SpeakerRole.SPEAKER_ROLE_CLIENT,
    )
    turns: list[tuple[int, str]] = [
        (therapist, "So, um, how has the week been?"),
        (client, "Uh, I I think it was, you know, a hard week at work."),
        (therapist, "Mm-hmm."),
        (client, "My manager moved the deadline again."),
        (client, "And I stopped sleeping properly."),
        (therapist, "Did you keep the sleep diary?"),
        (client, "Yeah."),
        (therapist, "Okay."),
    ]
    transcript = harness.transcript(turns)

    harness.llm.respond = scripted_reply
    await harness.send(harness.event(transcript))
    [(_, created)] = await harness.drafts(1, within=60)
    note = harness.open_note(created)

    [writing] = harness.llm.requests
    assert not harness.llm.requests_for("points")
    lines = [line for line in writing.prompt.splitlines() if LINE_ID.match(line)]
    assert lines == [
        "u0 T: So, how has the week been?",
        "u1 C: I think it was a hard week at work. My manager moved the deadline "
        "again. And I stopped sleeping properly.",
        "u5 T: Did you keep the sleep diary?",
        # An answer to a question is kept, a bare acknowledgement is not.
        "u6 C: Yeah.",
    ]
    written = [s for s in note.sections if s.key in writing.schema["properties"]]
    for section in written:
        assert list(section.evidence.utterance_ids) == ["u0", "u1", "u5"]
