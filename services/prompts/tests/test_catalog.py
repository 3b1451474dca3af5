from __future__ import annotations

import grpc
import pytest

from notewell.notes.v1.note_pb2 import Note, NoteSection, NoteTemplate, TemplateHeading
from notewell.notes.v1.notes_store_pb2 import SaveTemplateRequest
from notewell.prompts.v1.prompts_pb2 import ListPromptsRequest, PromptGroup

pytestmark = pytest.mark.asyncio


async def test_menu_lists_three_groups_and_every_blank_template(harness) -> None:
    own = await harness.notes.SaveTemplate(
        SaveTemplateRequest(
            template=NoteTemplate(
                name="Couples session",
                headings=[
                    TemplateHeading(key="focus", title="Focus"),
                    TemplateHeading(key="between", title="Between partners"),
                ],
            )
        ),
        metadata=harness.as_clinician(),
    )

    menu = await harness.prompts.ListPrompts(
        ListPromptsRequest(), metadata=harness.as_clinician()
    )

    by_group: dict[int, list[str]] = {}
    for item in menu.prompts:
        assert item.title and item.description
        by_group.setdefault(item.group, []).append(item.prompt_id)
    assert by_group[PromptGroup.PROMPT_GROUP_IDEAS] == [
        "ideas.interventions",
        "ideas.homework",
        "ideas.questions",
        "ideas.referrals",
    ]
    assert by_group[PromptGroup.PROMPT_GROUP_PATTERNS] == [
        "patterns.themes",
        "patterns.response",
        "patterns.adherence",
        "patterns.change_talk",
    ]
    assert by_group[PromptGroup.PROMPT_GROUP_SUMMARIES] == [
        "summaries.scores",
        "summaries.wearables",
        "summaries.history",
        "summaries.since_intake",
    ]
    assert by_group[PromptGroup.PROMPT_GROUP_TEMPLATES] == [
        "template:format:soap",
        "template:format:dap",
        "template:format:birp",
        "template:format:girp",
        "template:format:pie",
        "template:format:narrative",
        "template:custom:" + own.template_id,
    ]

    # Another clinician sees the built-in formats only.
    theirs = await harness.prompts.ListPrompts(
        ListPromptsRequest(), metadata=harness.as_clinician("dr-someone-else")
    )
    assert not [p for p in theirs.prompts if p.prompt_id.startswith("template:custom:")]


async def test_blank_templates_insert_headings_without_the_model(harness) -> None:
    pieces, result = await harness.run("template:format:birp", "c-any")
    assert result.text == "Behavior:\n\nIntervention:\n\nResponse:\n\nPlan:\n\n"
    assert "".join(pieces) == result.text
    assert not result.no_data and not result.extractive_fallback

    own = await harness.notes.SaveTemplate(
        SaveTemplateRequest(
            template=NoteTemplate(
                name="Group check-in",
                headings=[
                    TemplateHeading(key="mood", title="Mood round"),
                    TemplateHeading(key="goals", title="Goals for the week"),
                ],
            )
        ),
        metadata=harness.as_clinician(),
    )
    # After text in the section, the headings start on a line of their own.
    note = Note(sections=[NoteSection(key="narrative", text="Opened the group.")])
    _, custom = await harness.run(
        "template:custom:" + own.template_id,
        "c-any",
        note=note,
        section_key="narrative",
        cursor_offset=len("Opened the group."),
    )
    assert custom.text == "\nMood round:\n\nGoals for the week:\n\n"
    assert harness.llm.calls == 0

    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.run(
            "template:custom:" + own.template_id,
            "c-any",
            clinician_id="dr-someone-else",
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


async def test_calls_need_a_clinician_token(harness) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await harness.prompts.ListPrompts(ListPromptsRequest())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
