"""The extractive draft quotes the session word for word and invents nothing."""

from __future__ import annotations

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.fallback import ASSESSMENT, extractive_sections
from notewell.drafter.soap import NOT_ADDRESSED

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN


def test_plan_comes_from_therapist_next_steps_only(short_transcript) -> None:
    sections = extractive_sections(short_transcript, "Telehealth session.")
    assert [s.key for s in sections] == ["subjective", "objective", "assessment", "plan"]
    assert sections[1].text == "Telehealth session."
    assert sections[2].text == ASSESSMENT
    assert sections[3].utterance_ids == ("u14",)
    assert sections[3].text.startswith("Therapist (u14): “For this week, I'd like you")


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
    subjective, *_, plan = extractive_sections(transcript, "facts")
    assert subjective.utterance_ids == ("u1", "u2", "u4")
    lines = subjective.text.splitlines()
    assert lines[0].startswith("Client (u1): “I keep going over it.")
    assert lines[0].endswith("” …")
    assert len(lines[0]) < 420
    # Inner double quotes become single ones, so the quotation stays one pair.
    assert lines[1] == "Client (u2): “My boss said 'you are late' again today.”"
    assert lines[2] == "Client (u4): “I went home early and slept.”"
    assert plan.text == NOT_ADDRESSED
    assert plan.utterance_ids == ()
