"""The extractive draft quotes the session word for word, adds only computed scores,
and invents nothing, under the clinician's own headings."""

from __future__ import annotations

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.context import NO_CONTEXT, ContextItem, DraftContext
from notewell.drafter.fallback import NOT_GENERATED, SECTION_MARK, extractive_sections
from notewell.drafter.formats import BUILT_IN, NOT_ADDRESSED, SOAP

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN


def test_plan_comes_from_therapist_next_steps_only(short_transcript) -> None:
    sections = extractive_sections(short_transcript, SOAP, NO_CONTEXT)
    assert [s.key for s in sections] == ["subjective", "objective", "assessment", "plan"]
    assert sections[0].text.splitlines()[0] == SECTION_MARK
    assert sections[1].text == NOT_GENERATED
    assert sections[2].text == NOT_GENERATED
    assert sections[3].utterance_ids == ("u14",)
    assert sections[3].text.startswith("Therapist (u14): “For this week, I'd like you")


def test_scores_go_under_the_first_heading_and_earlier_notes_stay_out(
    short_transcript,
) -> None:
    context = DraftContext(
        items=(
            ContextItem("measure:PHQ-9", "PHQ-9 on 2025-03-01: 14 of 27 (moderate)."),
            ContextItem("note:n1", "Note of 2025-02-25. Subjective: earlier."),
        )
    )
    [data, assessment, plan] = extractive_sections(
        short_transcript, BUILT_IN["DAP"], context
    )
    assert data.key == "data"
    assert data.text.splitlines()[-1] == (
        "PHQ-9 on 2025-03-01: 14 of 27 (moderate). [measure:PHQ-9]"
    )
    assert data.context_ids == ("measure:PHQ-9",)
    assert "earlier" not in data.text
    assert assessment.text == NOT_GENERATED
    assert plan.utterance_ids == ("u14",)


def test_a_single_heading_holds_quotes_scores_and_next_steps(short_transcript) -> None:
    context = DraftContext(items=(ContextItem("measure:GAD-7", "GAD-7: 9 of 21."),))
    [narrative] = extractive_sections(short_transcript, BUILT_IN["NARRATIVE"], context)
    lines = narrative.text.splitlines()
    assert lines[0] == SECTION_MARK
    assert sum(line.startswith("Client (") for line in lines) == 3
    assert "GAD-7: 9 of 21. [measure:GAD-7]" in lines
    assert lines[-1].startswith("Therapist (u14): ")
    assert narrative.utterance_ids[-1] == "u14"


def test_quotes_keep_session_order_and_long_turns_are_cut_outside_the_quote() -> None:
    long_turn = "I keep going over it. " * 40
    transcript = Transcript(
        utterances=[
            Utterance(id="u0", role=CLIENT, text="Short one."),
            Utterance(id="u1", role=CLIENT, text=long_turn),
            Utterance(
                id="u2", role=CLIENT, text='My boss said "you are late" again today.'
            ),
            Utterance(id="u3", role=THERAPIST, text="What happened then?"),
            Utterance(id="u4", role=CLIENT, text="I went home early and slept."),
        ]
    )
    subjective, *_, plan = extractive_sections(transcript, SOAP, NO_CONTEXT)
    assert subjective.utterance_ids == ("u1", "u2", "u4")
    lines = subjective.text.splitlines()[1:]
    assert lines[0].startswith("Client (u1): “I keep going over it.")
    assert lines[0].endswith("” …")
    assert len(lines[0]) < 420
    # Inner double quotes become single ones, so the quotation stays one pair.
    assert lines[1] == "Client (u2): “My boss said 'you are late' again today.”"
    assert lines[2] == "Client (u4): “I went home early and slept.”"
    assert plan.text == NOT_ADDRESSED
    assert plan.utterance_ids == ()
