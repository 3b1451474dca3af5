from __future__ import annotations

import random
import time

import pytest

from notewell.clinical.grounding import (
    CheckedText,
    CheckReport,
    GroundingSource,
    check_text,
    split_statements,
)
from notewell.clinical.risk import find_risk
from notewell.common.v1.common_pb2 import SpeakerRole, Utterance
from notewell_tools.sessions import ANNOMI_CSV, load_annomi

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT_WORDS = {"the client", "client", "she", "Maria"}
THERAPIST_WORDS = {"the therapist", "therapist"}

TRANSCRIPT = [
    Utterance(id="u0", role=THERAPIST, start_seconds=0, text="How has sleep been?"),
    Utterance(
        id="u1",
        role=CLIENT,
        start_seconds=4,
        text="Bad. I sleep maybe four hours a night and I can’t stop worrying about work",
    ),
    Utterance(
        id="u2",
        role=THERAPIST,
        start_seconds=20,
        text="Let's try a worry window, 15 minutes each evening, one step at a time.",
    ),
    Utterance(
        id="u3",
        role=CLIENT,
        start_seconds=31,
        text="I walked the dog twice and missed about 50% of my shifts.",
    ),
]
CONTEXT = {
    "measure:PHQ-9": "PHQ-9 on 2026-11-30: 14 of 27 (moderate); on 2026-12-01: 11 of 27.",
    "session": "Individual session on 2026-12-01, 50 minutes, by video.",
    "note:n7": "Client was alert and oriented x3; mood low, affect constricted.",
}


@pytest.fixture(scope="module")
def source() -> GroundingSource:
    return GroundingSource(TRANSCRIPT, CONTEXT)


def check(text: str, source: GroundingSource, **kwargs: object) -> CheckedText:
    return check_text(
        text,
        source,
        client_words=CLIENT_WORDS,
        clinician_words=THERAPIST_WORDS,
        **kwargs,  # type: ignore[arg-type]
    )


def statements(checked: CheckedText) -> list[tuple[str, list[str], list[str]]]:
    return [
        (s.text, list(s.evidence.utterance_ids), list(s.evidence.context_ids))
        for s in checked.statements
    ]


def test_sentences_and_list_items_are_statements() -> None:
    text = (
        "Maria said “I can’t sleep. Ever.” She works nights. Dr. Lee agrees!\n"
        "- Worry window. Every evening.\n"
        "2) Walk the dog.\n"
        "PHQ-9 is 11 vs. 14 before."
    )
    assert split_statements(text) == [
        "Maria said “I can’t sleep. Ever.”",
        "She works nights.",
        "Dr. Lee agrees!",
        "- Worry window. Every evening.",
        "2) Walk the dog.",
        "PHQ-9 is 11 vs. 14 before.",
    ]


def test_supported_text_passes_with_evidence_per_statement(
    source: GroundingSource,
) -> None:
    text = (
        "Maria reported sleeping “four hours a night” and worrying about work. "
        "PHQ-9 improved from 14 to 11 of 27.\n"
        "- Worry window each evening."
    )
    checked = check(
        text,
        source,
        cited_utterance_ids=["u1", "u2", "u99"],
        cited_context_ids=["measure:PHQ-9", "note:missing"],
    )
    assert checked.text == text
    assert checked.report == CheckReport()
    assert statements(checked) == [
        (
            "Maria reported sleeping “four hours a night” and worrying about work.",
            ["u1"],
            [],
        ),
        ("PHQ-9 improved from 14 to 11 of 27.", [], ["measure:PHQ-9"]),
        ("- Worry window each evening.", ["u2"], []),
    ]


def test_a_statement_sharing_no_words_gets_everything_cited(
    source: GroundingSource,
) -> None:
    checked = check("Rapport good.", source, cited_utterance_ids=["u3", "u1"])
    assert statements(checked) == [("Rapport good.", ["u3", "u1"], [])]


def test_quotes_unspoken_or_misattributed_are_removed(source: GroundingSource) -> None:
    text = (
        "The client said “I feel worthless” but “can't stop worrying about work”. "
        "She promised to go “one step at a time”."
    )
    checked = check(text, source)
    assert checked.text == (
        "The client said but “can't stop worrying about work”. She promised to go."
    )
    assert checked.report == CheckReport(removed_quotes=2)


def test_max_quotes_unquotes_the_later_ones(source: GroundingSource) -> None:
    text = "Maria said “four hours a night” and “worrying about work”."
    assert check(text, source, max_quotes=1).text == (
        "Maria said “four hours a night” and worrying about work."
    )
    assert check(text, source, max_quotes=0).text == (
        "Maria said four hours a night and worrying about work."
    )


def test_a_score_the_measure_does_not_hold_removes_the_sentence(
    source: GroundingSource,
) -> None:
    text = (
        "Mood is low. PHQ-9 decreased from 14 to 9. PHQ-9 decreased from 14 to 11. "
        "She scored 14/27 on the PHQ-9 on 2026-11-30. GAD-7 of 11 noted."
    )
    checked = check(text, source)
    assert checked.text == (
        "Mood is low. PHQ-9 decreased from 14 to 11. "
        "She scored 14/27 on the PHQ-9 on 2026-11-30."
    )
    assert checked.report == CheckReport(removed_statements=2, removed_numbers=2)


def test_earlier_scores_a_measure_item_implies_are_held() -> None:
    measure = (
        "PHQ-9 on 2026-11-30: 14 of 27 (moderate); 6 lower than at intake on "
        "2026-09-01 (reliable improvement); 2 higher than on 2026-11-16; "
        "3 administrations on record."
    )
    source = GroundingSource([], {"measure:PHQ-9": measure})
    text = (
        "PHQ-9 fell from 20 at intake to 14. PHQ-9 rose from 12 to 14. "
        "PHQ-9 fell by 6 points. PHQ-9 fell from 21 to 14."
    )
    checked = check(text, source)
    assert checked.text == (
        "PHQ-9 fell from 20 at intake to 14. PHQ-9 rose from 12 to 14. "
        "PHQ-9 fell by 6 points."
    )


def test_a_figure_in_another_clause_is_no_instrument_score(
    source: GroundingSource,
) -> None:
    text = (
        "PHQ-9 was 11 and she walked the dog twice, sleeping 4 hours. "
        "PHQ-9 scores of 14 and 11. PHQ-9 was 11 and 4 before. "
        "PHQ-9 was 11; GAD-7 was 4."
    )
    checked = check(text, source)
    assert checked.text == (
        "PHQ-9 was 11 and she walked the dog twice, sleeping 4 hours. "
        "PHQ-9 scores of 14 and 11."
    )
    assert checked.report == CheckReport(removed_statements=2, removed_numbers=2)


def test_numbers_need_a_source_in_digits_or_words(source: GroundingSource) -> None:
    text = (
        "She sleeps 4 hours. She sleeps five hours. She walked the dog two times. "
        "She walked the dog twice. She missed 50 percent of shifts. "
        "She missed 60% of shifts. The 50-minute session was by video. "
        "Worry window of fifteen minutes."
    )
    checked = check(text, source)
    assert checked.text == (
        "She sleeps 4 hours. She walked the dog twice. She missed 50 percent of shifts. "
        "The 50-minute session was by video. Worry window of fifteen minutes."
    )
    assert checked.report == CheckReport(removed_statements=3, removed_numbers=3)


def test_risk_claims_go_when_risk_never_came_up(source: GroundingSource) -> None:
    text = (
        "Client denies SI/HI. No suicidal ideation. Not a danger to self or others. "
        "Risk assessment was low. Safety plan reviewed. She works nights."
    )
    checked = check(text, source)
    assert checked.text == "She works nights."
    assert checked.report == CheckReport(removed_statements=5, removed_risk_claims=5)


def test_risk_claims_stay_when_the_session_discussed_risk() -> None:
    # A negated answer still counts: the topic was discussed.
    utterances = [*TRANSCRIPT, Utterance(id="u4", role=CLIENT, text="I'm not suicidal.")]
    source = GroundingSource(utterances, CONTEXT)
    checked = check("Client denies SI. She works nights.", source)
    assert checked.text == "Client denies SI. She works nights."
    assert checked.report == CheckReport()


def test_talk_of_other_risks_does_not_support_a_self_harm_screen_result() -> None:
    utterances = [Utterance(id="u0", role=CLIENT, text="I was drinking a lot again.")]
    source = GroundingSource(utterances, {})
    text = "Client denies SI/HI. Risk level low. Not a danger to self or others."
    checked = check(text, source)
    assert checked.text == "Risk level low."
    assert checked.report == CheckReport(removed_statements=2, removed_risk_claims=2)


def test_risk_findings_given_by_the_caller_are_used(source: GroundingSource) -> None:
    asked = find_risk(
        [
            Utterance(id="q", role=THERAPIST, text="Any thoughts of hurting yourself?"),
            Utterance(id="a", role=CLIENT, text="No."),
        ]
    )
    checked = check("No SI reported.", source, risk_found=asked)
    assert checked.text == "No SI reported."


def test_risk_words_in_ordinary_sentences_or_quotes_stay(source: GroundingSource) -> None:
    text = (
        "Discussed low risk drinking guidelines. "
        "The client said “I can't stop worrying about work”, not a risk to others."
    )
    checked = check(text, source)
    assert checked.text == "Discussed low risk drinking guidelines."
    assert checked.report == CheckReport(removed_statements=1, removed_risk_claims=1)

    said = GroundingSource(
        [Utterance(id="u0", role=CLIENT, text="Honestly I'm no danger to others.")], {}
    )
    quoted = "The client said “I'm no danger to others” and was tired."
    assert check(quoted, said).text == quoted


def test_mental_status_boilerplate_needs_support(source: GroundingSource) -> None:
    text = (
        "Client was alert and oriented x3. Thought process linear and goal-directed. "
        "A&Ox3. Appropriate hygiene. Normal speech. Good insight and judgment. "
        "Euthymic. She arrived on time."
    )
    checked = check(text, source)
    # "alert and oriented x3" is in an earlier note; nothing supports the rest.
    assert checked.text == "Client was alert and oriented x3. She arrived on time."
    assert checked.report == CheckReport(removed_statements=6, removed_default_findings=6)


def test_mental_status_words_the_client_said_are_supported() -> None:
    utterances = [Utterance(id="u0", role=CLIENT, text="My speech is normal speech now.")]
    source = GroundingSource(utterances, {})
    assert check("Normal speech.", source).text == "Normal speech."


def test_each_removed_sentence_counts_once_under_its_first_rule(
    source: GroundingSource,
) -> None:
    checked = check("Denies SI, alert and oriented x4 with 9 hours of sleep.", source)
    assert checked.text == ""
    assert checked.statements == []
    assert checked.report == CheckReport(removed_statements=1, removed_risk_claims=1)


def test_reports_add_up() -> None:
    total = CheckReport(1, 2, 1, 1, 0) + CheckReport(0, 1, 0, 0, 1)
    assert total == CheckReport(1, 3, 1, 1, 1)


def test_statements_join_back_to_the_checked_text(source: GroundingSource) -> None:
    text = (
        "Maria sleeps 7 hours. She works nights.\n"
        "1. Walk the dog.\n"
        "2) Sleep 9 hours.\n"
        "3) Sleep four hours."
    )
    checked = check(text, source)
    assert checked.text == "She works nights.\n1. Walk the dog.\n3) Sleep four hours."
    assert [s.text for s in checked.statements] == [
        "She works nights.",
        "1. Walk the dog.",
        "3) Sleep four hours.",
    ]


def test_stammers_are_not_instrument_names(source: GroundingSource) -> None:
    text = "She said I-I walked the dog twice. PHQ-9 of 11 noted."
    assert check(text, source).text == text


def test_every_utterance_of_real_sessions_quoted_word_for_word_passes() -> None:
    if not ANNOMI_CSV.exists():
        pytest.skip("the AnnoMI dataset is not in ../shared/datasets")
    for transcript_id in (12, 20, 98, 99):
        turns = load_annomi(transcript_id).transcript["turns"]
        utterances = [
            Utterance(
                id=f"u{i}",
                role=CLIENT if turn["speaker"] == "client" else THERAPIST,
                start_seconds=float(turn["start"]),  # type: ignore[arg-type]
                text=str(turn["text"]),
            )
            for i, turn in enumerate(turns)
        ]
        source = GroundingSource(utterances, {})
        for u in utterances:
            words = u.text.replace('"', "'")
            who = "The client" if u.role == CLIENT else "The therapist"
            text = f"{who} said “{words}”"
            checked = check(text, source)
            assert (checked.text, checked.report) == (text, CheckReport()), u.id


def test_a_7000_word_transcript_checks_quickly() -> None:
    vocabulary = (
        "sleep work worry dog walk mother sister job anxious tired calm "
        "plan talk feel week night morning"
    )
    words = vocabulary.split()
    draw = random.Random(7)
    utterances = []
    for i in range(350):
        text = " ".join(draw.choice(words) for _ in range(20)) + f" {i % 30}."
        role = CLIENT if i % 2 else THERAPIST
        utterances.append(
            Utterance(id=f"u{i}", role=role, start_seconds=i * 8, text=text)
        )
    utterances[101].text = "Honestly I sleep four hours and I can't stop worrying."
    note = (
        "Maria described sleeping “four hours” and said “I can't stop worrying”. "
        "She felt “totally hopeless”. PHQ-9 was 14. She walked 3 times.\n"
        "- Keep a worry log for seven nights.\n"
        "- Denies SI.\n"
    ) * 4

    started = time.perf_counter()
    source = GroundingSource(utterances, CONTEXT)
    checked = check(note, source, cited_utterance_ids=[f"u{i}" for i in range(0, 350, 7)])
    elapsed = time.perf_counter() - started
    print(f"grounding check of a 7000-word transcript: {elapsed * 1000:.1f} ms")

    assert sum(len(u.text.split()) for u in utterances) >= 7000
    assert checked.report == CheckReport(
        removed_quotes=4, removed_statements=4, removed_risk_claims=4
    )
    assert checked.text.count("“four hours”") == 4
    assert "hopeless" not in checked.text
