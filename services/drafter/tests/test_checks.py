"""What the checks keep and remove, on the short invented session."""

from __future__ import annotations

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.checks import check_note, safety_section
from notewell.drafter.context import NO_CONTEXT, ContextItem, DraftContext
from notewell.drafter.formats import NOT_ADDRESSED, Section
from notewell.drafter.voice import DEFAULT_VOICE, resolve_voice
from notewell.notes.v1.note_pb2 import ClientProfile, NotePreferences


def _section(key: str, text: str, ids: tuple[str, ...] = (), contexts=()) -> Section:
    return Section(key, key.title(), text, ids, contexts)


def _check(sections, transcript, max_quotes=None, context=NO_CONTEXT, voice=None):
    return check_note(sections, transcript, context, voice or DEFAULT_VOICE, max_quotes)


def test_verbatim_quotes_stay_and_invented_ones_go(short_transcript) -> None:
    sections = [
        _section(
            "subjective",
            'The client said “I wake up around four” and "I never sleep at all".',
        ),
        _section("objective", "The client said “my HANDS were shaking.”"),
        _section("assessment", 'Reported "the chest got tight" and “leave the room”.'),
        _section("plan", "Keep a worry log."),
    ]
    checked, report = _check(sections, short_transcript)
    texts = [s.text for s in checked]
    assert texts[0] == "The client said “I wake up around four” and."
    assert texts[1] == "The client said “my HANDS were shaking.”"
    # "the chest got tight" is not what was said ("My chest got tight").
    assert texts[2] == "Reported and “leave the room”."
    assert texts[3] == "Keep a worry log."
    assert report.removed_quotes == 2


def test_a_quote_put_in_the_wrong_mouth_is_removed(short_transcript) -> None:
    # The client said this, not the therapist.
    [checked], report = _check(
        [_section("objective", "The therapist said “I was sure everyone could tell”.")],
        short_transcript,
    )
    assert checked.text == "The therapist said."
    assert report.removed_quotes == 1


def test_quotes_past_the_limit_lose_their_marks_across_the_note(
    short_transcript,
) -> None:
    sections = [
        _section(
            "subjective", "The client said “I wake up around four” and “Not great”."
        ),
        _section("plan", "The client said “I can do that”."),
    ]
    checked, _ = _check(sections, short_transcript, max_quotes=2)
    assert checked[0].text == "The client said “I wake up around four” and “Not great”."
    assert checked[1].text == "The client said I can do that."

    none, _ = _check(sections, short_transcript, max_quotes=0)
    assert none[0].text == "The client said I wake up around four and Not great."
    assert none[1].text == "The client said I can do that."
    assert not any(mark in s.text for s in none for mark in '“”"')


def test_unknown_evidence_is_dropped_and_duplicates_merged(short_transcript) -> None:
    context = DraftContext(items=(ContextItem("measure:PHQ-9", "PHQ-9 ..."),))
    [checked], report = _check(
        [
            _section(
                "plan",
                "Worry log.",
                ("u14", "u14", "u77", "", "U3", "[u5]"),
                ("measure:PHQ-9", "measure:GAD-7"),
            )
        ],
        short_transcript,
        context=context,
    )
    assert checked.utterance_ids == ("u14", "u5")
    assert checked.context_ids == ("measure:PHQ-9",)
    assert report.dropped_ids == 5
    # The statement rests on the cited utterance it shares words with.
    assert [(s.text, s.utterance_ids, s.context_ids) for s in checked.statements] == [
        ("Worry log.", ("u14",), ())
    ]


def test_a_section_emptied_by_the_checks_says_so(short_transcript) -> None:
    sections = [
        _section("subjective", '"I love my job," ', ("u1",)),
        _section("objective", "  "),
        _section("assessment", "…"),
        _section("plan", "Breathing practice. Worry log.", ("u14",)),
    ]
    checked, report = _check(sections, short_transcript)
    assert [s.text for s in checked[:3]] == [NOT_ADDRESSED] * 3
    assert [s.utterance_ids for s in checked[:3]] == [()] * 3
    assert checked[3].text == "Breathing practice. Worry log."
    assert [s.text for s in checked[3].statements] == [
        "Breathing practice.",
        "Worry log.",
    ]
    assert report.emptied_sections == 3


def test_the_safety_section_without_risk_says_it_was_not_assessed(
    short_transcript,
) -> None:
    section = safety_section(short_transcript, DEFAULT_VOICE)
    assert (section.key, section.title) == ("safety", "Safety")
    assert section.text.startswith("Risk was not assessed in this session")
    assert section.utterance_ids == ()


def test_the_safety_section_quotes_risk_talk_and_screening() -> None:
    transcript = Transcript(
        utterances=[
            Utterance(
                id="u0",
                role=SpeakerRole.SPEAKER_ROLE_CLIENT,
                start_seconds=65,
                text="Some nights I think everyone would be better off dead without me.",
            ),
            Utterance(
                id="u1",
                role=SpeakerRole.SPEAKER_ROLE_CLINICIAN,
                start_seconds=80,
                text="Are you having thoughts of killing yourself?",
            ),
            Utterance(
                id="u2",
                role=SpeakerRole.SPEAKER_ROLE_CLIENT,
                start_seconds=90,
                text="No, I would never act on it.",
            ),
        ]
    )
    voice = resolve_voice(
        NotePreferences(client_reference="first name"),
        client=ClientProfile(preferred_name="Sam"),
    )
    section = safety_section(transcript, voice)
    lines = section.text.splitlines()
    # Each person's words verbatim, at the time said, under the client's reference.
    assert lines[1].startswith("- 01:05 Sam")
    assert (
        "“Some nights I think everyone would be better off dead without me.”"
        in (lines[1])
    )
    assert lines[2].startswith("- 01:20 The therapist")
    assert "“Are you having thoughts of killing yourself?”" in lines[2]
    assert lines[3].startswith("- 01:30 Sam")
    assert lines[3].endswith("“No, I would never act on it.”")
    assert section.utterance_ids == ("u0", "u1", "u2")
    assert [s.text for s in section.statements] == lines
