"""Generation on a client with three signed notes, scores and a month of sleep data,
against a scripted model that plants a wrong figure and an unspoken quotation."""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

import pytest

from notewell.notes.v1.note_pb2 import (
    DirectQuotes,
    Note,
    NotePreferences,
    NoteSection,
    NoteType,
)
from notewell.prompts import catalog

pytestmark = pytest.mark.asyncio

PHQ9 = (
    "PHQ-9 on 2026-11-01: 9 of 27 (mild); 11 lower than at intake on 2026-09-20 "
    "(reliable improvement); 4 lower than on 2026-10-15; 3 administrations on record."
)
GAD7 = (
    "GAD-7 on 2026-11-01: 11 of 21 (moderate); 1 lower than at intake on 2026-09-20 "
    "(no reliable change); 2 administrations on record."
)
SLEEP = (
    "Sleep averaged 7 h 0 min a night over the last 14 days (14 nights measured), "
    "1 h 0 min more than the earlier average of 6 h 0 min."
)
HISTORY = "3 signed notes are on record, from 2026-10-01 to 2026-11-01."
THEMES = [
    "The theme of sleep appears in 3 of the 3 signed notes.",
    "The theme of work stress appears in 2 of the 3 signed notes.",
]
# What each source puts in front of the model, computed in code.
FACTS_OF = {
    "scores": [PHQ9, GAD7],
    "wearables": [SLEEP],
    "history": [HISTORY],
    "themes": THEMES,
}

PLANTED_FIGURE = "The PHQ-9 score rose to 23 this month."
UNSPOKEN = 'The client said "I will run a marathon tomorrow" at the last session.'
SPOKEN = 'The client said "I finally slept through the night" twice this week.'
LATER_SESSION = date(2026, 11, 8)
# Only in notes the prompts may never read.
PROCESS_NOTE_WORD = "zeppelin"
OTHER_CLINICIAN_WORD = "trombone"


def facts_in(messages: list[dict[str, Any]]) -> list[str]:
    user = messages[-1]["content"]
    block = user.split("Facts computed from the client's record:\n", 1)
    if len(block) == 1:
        return []
    return re.findall(r"^- (.+)$", block[1].split("\n\n", 1)[0], re.MULTILINE)


def answer(messages: list[dict[str, Any]], response_format: Any) -> str:
    """A correct figure from the facts, then the planted figure and quotations."""
    facts = facts_in(messages)
    first = facts[0] if facts else "Recent notes describe sleep improving with a diary."
    return f"{first} {PLANTED_FIGURE} {UNSPOKEN} {SPOKEN}"


async def test_every_prompt_states_computed_figures_and_only_verified_quotes(
    harness, caplog: pytest.LogCaptureFixture
) -> None:
    client_id = await harness.full_client()
    await harness.sign_note(
        client_id,
        LATER_SESSION,
        {"process": f"My reaction: the {PROCESS_NOTE_WORD} image stayed with me."},
        note_type=NoteType.NOTE_TYPE_PSYCHOTHERAPY,
    )
    await harness.sign_note(
        client_id,
        LATER_SESSION,
        {"subjective": f"Seen by a colleague; mentioned the {OTHER_CLINICIAN_WORD}."},
        clinician_id="dr-bo",
    )
    harness.llm.respond = answer
    caplog.set_level(logging.INFO)

    for prompt in catalog.prompts().values():
        before = harness.llm.calls
        pieces, result = await harness.run(prompt.prompt_id, client_id)

        assert harness.llm.calls == before + 1, prompt.prompt_id
        request = harness.llm.requests[-1]
        expected = [
            f for source in FACTS_OF if source in prompt.uses for f in FACTS_OF[source]
        ]
        assert sorted(facts_in(request.messages)) == sorted(expected), prompt.prompt_id
        assert PROCESS_NOTE_WORD not in request.prompt
        assert OTHER_CLINICIAN_WORD not in request.prompt

        text = result.text
        assert "".join(pieces) == text
        assert len(pieces) >= 2, "streamed sentence by sentence"
        said = [s.text for s in result.statements]
        if prompt.layout == "list":
            assert text == "\n".join("- " + s for s in said)
        else:
            assert text == " ".join(said)
        if expected:
            assert said[0] == facts_in(request.messages)[0], prompt.prompt_id
        assert "23" not in text and "marathon" not in text
        assert 'The client said "I finally slept through the night" twice' in said[-1]
        assert result.removed_quotes == 1
        assert result.removed_statements == 1
        assert not result.no_data and not result.extractive_fallback
        assert all(s.evidence.context_ids for s in result.statements)

    # Nothing of the record or the answers reaches the logs; the events do.
    assert caplog.text.count("prompt_done") == len(catalog.prompts())
    for secret in ("slept through the night", "marathon", "9 of 27", "work stress"):
        assert secret not in caplog.text


async def test_text_follows_the_preferences_and_the_text_at_the_cursor(harness) -> None:
    client_id = await harness.full_client(with_scores=False)
    await harness.set_client_profile(
        client_id, full_name="Robin Vale", pronouns="they/them"
    )
    await harness.set_preferences(
        NotePreferences(
            client_reference="first name",
            clinician_reference="first person",
            direct_quotes=DirectQuotes.DIRECT_QUOTES_NONE,
        )
    )
    harness.llm.reply(
        "- Keep the sleep diary every night.\n- Plan a work conversation.\n",
        "Robin reported better sleep. Robin wants to speak to the manager. "
        'Robin said "I finally slept through the night" twice.',
    )

    plan = "- Continue the sleep diary\n"
    note = Note(
        client_id=client_id,
        format="SOAP",
        sections=[
            NoteSection(key="subjective", title="Subjective", text="Slept better."),
            NoteSection(key="plan", title="Plan", text=plan),
        ],
    )
    pieces, result = await harness.run(
        "ideas.homework",
        client_id,
        note=note,
        section_key="plan",
        cursor_offset=len(plan),
    )
    system, user = (m["content"] for m in harness.llm.requests[-1].messages)
    assert '"Robin" (they/them)' in system and '("I")' in system
    assert "list items" in system
    assert "Plan section of a SOAP note" in user
    assert "Subjective: Slept better." in user
    assert pieces == [
        "- Keep the sleep diary every night.",
        "\n- Plan a work conversation.",
    ]

    # Mid-paragraph, the text continues the paragraph after a space.
    note.sections[1].text = "Discussed options."
    pieces, result = await harness.run(
        "ideas.referrals", client_id, note=note, section_key="plan", cursor_offset=18
    )
    assert "one paragraph" in harness.llm.requests[-1].messages[0]["content"]
    # No direct quotations, as preferred: the words stay, the marks go.
    assert pieces == [
        " Robin reported better sleep.",
        " Robin wants to speak to the manager.",
        " Robin said I finally slept through the night twice.",
    ]
    assert result.text == "".join(pieces)


async def test_no_scores_answers_plainly_without_the_model(harness) -> None:
    client_id = await harness.full_client(with_scores=False)

    pieces, result = await harness.run("summaries.scores", client_id)
    assert result.text == "No scores recorded for this client yet."
    assert pieces == [result.text]
    assert result.no_data

    _, wearables = await harness.run("summaries.wearables", client_id)
    assert wearables.text == "No wearable data recorded for this client yet."
    assert wearables.no_data
    assert harness.llm.calls == 0


async def test_model_unavailable_answers_from_the_computed_facts(harness) -> None:
    client_id = await harness.full_client()
    harness.llm.fail_all(503)

    pieces, result = await harness.run("summaries.scores", client_id)
    assert result.extractive_fallback and not result.no_data
    assert result.text == f"{GAD7} {PHQ9}"
    assert pieces == [GAD7, " " + PHQ9]
    assert [list(s.evidence.context_ids) for s in result.statements] == [
        ["measure:GAD-7"],
        ["measure:PHQ-9"],
    ]
