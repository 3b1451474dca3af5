from __future__ import annotations

import pytest

from notewell.clinical.risk import (
    ABUSE,
    HARM_TO_OTHERS,
    NOT_ASSESSED,
    SELF_HARM,
    SUBSTANCE_RISK,
    SUICIDAL_THOUGHTS,
    RiskMention,
    clock,
    find_risk,
    risk_section,
)
from notewell.common.v1.common_pb2 import SpeakerRole, Utterance
from notewell_tools.sessions import ANNOMI_CSV, load_annomi

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN


def said(index: int, role: int, seconds: float, text: str) -> Utterance:
    return Utterance(id=f"u{index}", role=role, start_seconds=seconds, text=text)


def annomi(transcript_id: int) -> list[Utterance]:
    """An AnnoMI session, read from the shared datasets, as utterances."""
    if not ANNOMI_CSV.exists():
        pytest.skip("the AnnoMI dataset is not in ../shared/datasets")
    turns = load_annomi(transcript_id).transcript["turns"]
    return [
        said(
            i,
            CLIENT if turn["speaker"] == "client" else THERAPIST,
            float(turn["start"]),  # type: ignore[arg-type]
            str(turn["text"]),
        )
        for i, turn in enumerate(turns)
    ]


@pytest.mark.parametrize(
    ("text", "category", "excerpt"),
    [
        (
            "Work is fine. Some nights I think I'd be better off dead. Anyway.",
            SUICIDAL_THOUGHTS,
            "Some nights I think I'd be better off dead.",
        ),
        ("I just don’t want to be here anymore", SUICIDAL_THOUGHTS, None),
        ("I'm not suicidal, I'm just tired.", SUICIDAL_THOUGHTS, None),
        ("Last year I was cutting myself again.", SELF_HARM, None),
        ("I wanted to hurt myself after the call.", SELF_HARM, None),
        ("Honestly I could kill him when he does that.", HARM_TO_OTHERS, None),
        ("When he drinks he hits me. It's scary.", ABUSE, "When he drinks he hits me."),
        ("I feel unsafe at home.", ABUSE, None),
        ("I was drinking a lot, and there was a blackout.", SUBSTANCE_RISK, None),
        ("After six months clean I'm using again.", SUBSTANCE_RISK, None),
        ("He got a DUI for drunk driving.", SUBSTANCE_RISK, None),
    ],
)
def test_lexicon_phrases_are_mentions(
    text: str, category: str, excerpt: str | None
) -> None:
    findings = find_risk([said(0, CLIENT, 65, text)])
    assert findings.mentions == [
        RiskMention(category, "u0", CLIENT, 65, excerpt or text),
    ]
    assert findings.assessed is False


@pytest.mark.parametrize(
    "text",
    [
        "I'm cutting back on sugar and cutting down on coffee.",
        "I took my pills every morning this week.",
        "That was a non-violent offence, years ago.",
        "We had a photo shoot, people went out after.",
        "I feel safe with him, and I hit my targets at work.",
    ],
)
def test_ordinary_talk_is_no_mention(text: str) -> None:
    assert find_risk([said(0, CLIENT, 0, text)]).mentions == []


def test_substance_abuse_is_substance_risk_not_abuse() -> None:
    findings = find_risk([said(0, CLIENT, 0, "My substance abuse counsellor is nice.")])
    assert [m.category for m in findings.mentions] == [SUBSTANCE_RISK]


def test_one_utterance_can_hold_several_categories() -> None:
    findings = find_risk([said(3, CLIENT, 0, "He beat me, so I took heroin.")])
    assert [m.category for m in findings.mentions] == [ABUSE, SUBSTANCE_RISK]
    assert {m.excerpt for m in findings.mentions} == {"He beat me, so I took heroin."}


def test_a_screening_question_marks_the_session_assessed_and_is_no_mention() -> None:
    utterances = [
        said(0, THERAPIST, 100, "Any thoughts of suicide or of hurting yourself lately?"),
        said(1, CLIENT, 104, "No. Nothing like that."),
    ]
    findings = find_risk(utterances)
    assert findings.assessed is True
    assert findings.mentions == []
    assert [(s.question_id, s.answer_id) for s in findings.screenings] == [("u0", "u1")]


def test_section_when_risk_never_came_up() -> None:
    findings = find_risk([said(0, CLIENT, 0, "Work has been busy.")])
    assert risk_section(findings) == (NOT_ASSESSED, [])


def test_section_when_asked_and_the_client_answered_quotes_the_answer() -> None:
    utterances = [
        said(0, CLIENT, 20, "Work has been busy."),
        said(1, THERAPIST, 100, "Do you feel safe at home? I ask everyone."),
        said(2, CLIENT, 104, 'Yes. "Totally" safe, he\'s kind.'),
    ]
    assert risk_section(find_risk(utterances), client_ref="Maria") == (
        "Risk was asked about in this session (verbatim):\n"
        "- 01:40 The therapist asked: “Do you feel safe at home?”\n"
        "- 01:44 Maria answered: “Yes. 'Totally' safe, he's kind.”",
        ["u1", "u2"],
    )


def test_section_lists_each_mention_with_its_time_and_speaker_in_order() -> None:
    utterances = [
        said(0, THERAPIST, 30, "You said you were drinking a lot at weekends."),
        said(1, CLIENT, 45, "Yeah. And once I thought about suicide, years ago."),
        said(2, THERAPIST, 3725, "Are you having thoughts of suicide now?"),
        said(3, CLIENT, 3731, "No, I'm not suicidal now."),
    ]
    text, ids = risk_section(find_risk(utterances))
    assert text == (
        "Risk was asked about in this session (verbatim):\n"
        "- 00:30 The therapist said: “You said you were drinking a lot at weekends.”"
        " (substance risk)\n"
        "- 00:45 The client said: “And once I thought about suicide, years ago.”"
        " (suicidal thoughts)\n"
        "- 62:05 The therapist asked: “Are you having thoughts of suicide now?”\n"
        "- 62:11 The client answered: “No, I'm not suicidal now.” (suicidal thoughts)"
    )
    assert ids == ["u0", "u1", "u2", "u3"]


def test_section_says_when_no_screening_question_was_asked() -> None:
    findings = find_risk([said(0, CLIENT, 5, "I relapsed on Friday.")])
    assert risk_section(findings, clock=lambda s: f"{s:.0f}s") == (
        "Safety-related statements in this session (verbatim):\n"
        "- 5s The client said: “I relapsed on Friday.” (substance risk)\n"
        "No risk screening question was asked in this session.",
        ["u0"],
    )


def test_clock_is_minutes_and_seconds() -> None:
    assert [clock(s) for s in (0, 59.9, 61, 3725)] == ["00:00", "00:59", "01:01", "62:05"]


def test_annomi_session_where_the_client_names_suicide() -> None:
    findings = find_risk(annomi(111))
    assert [(m.category, m.role, m.excerpt) for m in findings.mentions] == [
        (SUICIDAL_THOUGHTS, CLIENT, "What, like suicidal?")
    ]


def test_annomi_drinking_sessions_are_substance_risk() -> None:
    binge = find_risk(annomi(0))
    assert [(m.category, m.role) for m in binge.mentions] == [(SUBSTANCE_RISK, THERAPIST)]
    assert binge.mentions[0].excerpt.startswith("By the way, binge drinking is defined")

    drugs = find_risk(annomi(55))
    assert {m.category for m in drugs.mentions} == {SUBSTANCE_RISK}
    assert (
        "Well, uh, I don't want to have an overdose and I don't want to get an infection."
        in {m.excerpt for m in drugs.mentions if m.role == CLIENT}
    )


@pytest.mark.parametrize("transcript_id", [4, 6, 48, 50, 58])
def test_annomi_neutral_sessions_raise_nothing(transcript_id: int) -> None:
    findings = find_risk(annomi(transcript_id))
    assert findings.mentions == []
    assert findings.assessed is False
    assert risk_section(findings) == (NOT_ASSESSED, [])
