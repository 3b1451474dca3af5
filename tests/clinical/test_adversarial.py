"""Model-written text that reads plausibly but is wrong, against the grounding checks:
each case is one way a draft could slip something past them."""

from __future__ import annotations

import pytest

from notewell.clinical.grounding import GroundingSource, check_text
from notewell.clinical.instruments import INSTRUMENTS
from notewell.clinical.risk import find_risk
from notewell.common.v1.common_pb2 import SpeakerRole, Utterance

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT_WORDS = {"the client", "client", "she"}
THERAPIST_WORDS = {"the therapist", "therapist"}

# No risk screening and no risk talk; "four" is said, so 4 is a known figure.
TRANSCRIPT = [
    Utterance(id="u0", role=THERAPIST, start_seconds=0, text="How has sleep been?"),
    Utterance(
        id="u1",
        role=CLIENT,
        start_seconds=4,
        text="Bad. I sleep maybe four hours a night and I can't stop worrying about work",
    ),
    Utterance(
        id="u2",
        role=THERAPIST,
        start_seconds=20,
        text="You sound exhausted and overwhelmed by it all.",
    ),
    Utterance(
        id="u3",
        role=CLIENT,
        start_seconds=31,
        text="I don't want to quit, I want to get better at it.",
    ),
]
CONTEXT = {
    "measure:PHQ-9": (
        "PHQ-9 on 2026-11-30: 18 of 27 (moderately severe); on 2026-12-01: 12 of 27."
    ),
}


@pytest.fixture(scope="module")
def source() -> GroundingSource:
    return GroundingSource(TRANSCRIPT, CONTEXT)


def checked(text: str, source: GroundingSource) -> str:
    return check_text(
        text, source, client_words=CLIENT_WORDS, clinician_words=THERAPIST_WORDS
    ).text


@pytest.mark.parametrize(
    "claim",
    [
        "Suicidal ideation was denied.",
        "Client was not suicidal.",
        "Client is not suicidal or homicidal.",
        "Client is not at risk of harm.",
        "Client reports no thoughts of harming self or others.",
        "Client denied any intent to harm self or others.",
        "Client did not endorse suicidal ideation.",
        "SI: denied.",
        "SI/HI: none.",
        "Risk: low.",
        "SI/HI: neg.",
        "Safety concerns: none.",
        "Client verbalized no intent to harm self.",
        "Client has no history of suicide attempts.",
        "C-SSRS negative.",
        "Client is safe.",
        "Client reported feeling safe at home.",
        "Client denies S.I.",
        # Cyrillic "е" and "і" in place of the Latin letters.
        "Clіent dеnies SI.",
        # A zero-width space inside the verb.
        "Client de\u200bnies SI.",
    ],
)
def test_risk_screen_results_nobody_asked_about_go(
    claim: str, source: GroundingSource
) -> None:
    assert checked(f"Sleep was discussed. {claim}", source) == "Sleep was discussed."


def test_safety_of_other_things_is_no_risk_claim(source: GroundingSource) -> None:
    for sentence in ("The new routine is safe.", "Mild headaches came up."):
        assert checked(sentence, source) == sentence


def test_a_denial_goes_when_the_client_voiced_what_it_denies() -> None:
    source = GroundingSource(
        [
            Utterance(id="a", role=THERAPIST, text="Any thoughts of suicide lately?"),
            Utterance(
                id="b",
                role=CLIENT,
                start_seconds=3,
                text="Honestly yes, I think about ending it all most nights.",
            ),
        ],
        {},
    )
    for claim in ("The client denied suicidal ideation.", "Client denies SI."):
        assert checked(claim, source) == ""
    # The screening itself may be reported.
    assert checked("Suicide risk was screened.", source) == "Suicide risk was screened."


def test_a_denial_stays_when_the_client_denied_it_too() -> None:
    asked = Utterance(id="a", role=THERAPIST, text="Any thoughts of suicide lately?")
    no = Utterance(id="b", role=CLIENT, start_seconds=3, text="No, I'm not suicidal.")
    source = GroundingSource([asked, no], {})
    assert checked("Client denies SI.", source) == "Client denies SI."
    # The lexicon phrase's own negation still states the risk.
    life = "I don't want to live like this."
    yes = Utterance(id="b", role=CLIENT, start_seconds=3, text=life)
    assert checked("Client denies SI.", GroundingSource([asked, yes], {})) == ""


# Patterns that backtrack without bound never finish on input like this; linear ones
# take well under a second. The limit catches the first kind, however busy the
# machine, without timing the second; the thread method ends even a match stuck in C.
@pytest.mark.timeout(60, method="thread")
def test_a_long_unpunctuated_sentence_is_checked_in_linear_time(
    source: GroundingSource,
) -> None:
    checked("Client did not report " * 2000 + "denies the thing " * 4000, source)


def test_a_question_about_feeling_safe_with_a_task_is_no_risk_screen() -> None:
    utterances = [
        Utterance(
            id="a", role=THERAPIST, text="Do you feel safe trying that at work this week?"
        ),
        Utterance(id="b", role=CLIENT, start_seconds=3, text="Sure."),
    ]
    assert not find_risk(utterances).assessed
    assert checked("Client denies SI/HI.", GroundingSource(utterances, {})) == ""
    # Still a screening when it asks about safety itself.
    asked = [Utterance(id="a", role=THERAPIST, text="Do you feel safe at home?")]
    assert find_risk(asked).assessed


@pytest.mark.parametrize(
    "finding",
    [
        "Affect congruent with mood.",
        "Mood and affect congruent.",
        "Affect was full range.",
        "Appearance: well-groomed, casual attire.",
        "Client was appropriately dressed.",
        "Speech: normal rate and volume.",
        "Client was oriented to all spheres.",
        "Thought process: logical and goal-directed.",
        "Client maintained good eye contact.",
        "Eye contact was appropriate.",
        "Insight: good.",
        "Judgment: fair.",
        "No evidence of psychosis.",
    ],
)
def test_mental_status_boilerplate_nobody_observed_goes(
    finding: str, source: GroundingSource
) -> None:
    assert checked(f"Sleep was discussed. {finding}", source) == "Sleep was discussed."


@pytest.mark.parametrize(
    "sentence",
    [
        # 27 is the scale's maximum, not a score.
        "PHQ-9 was 27.",
        "PHQ-9 decreased from 27 to 12.",
        # Number words past twenty.
        "PHQ-9 was twenty-one.",
        "Client has been sober for thirty days.",
        "PHQ-9 fell by thirty percent.",
        # The instrument in other spellings, with a figure said elsewhere (four).
        "The phq-9 score was 4.",
        "Phq-9 score was 4.",
        "PHQ9 score was 4.",
        "The gad7 was 4.",
    ],
)
def test_unsupported_figures_go(sentence: str, source: GroundingSource) -> None:
    assert checked(f"Sleep was discussed. {sentence}", source) == "Sleep was discussed."


def test_supported_figures_in_other_spellings_stay(source: GroundingSource) -> None:
    for sentence in (
        "phq-9 score was 12.",
        "PHQ9 went from 18 to 12 of 27.",
        "Client sleeps four hours.",
    ):
        assert checked(sentence, source) == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "The client said «I want to quit my job».",
        "The client said „I want to quit my job“.",
        "The client said ＂I want to quit my job＂.",
    ],
)
def test_quotations_in_other_marks_are_verified(
    sentence: str, source: GroundingSource
) -> None:
    assert "quit my job" not in checked(sentence, source)


def test_spoken_quotation_in_guillemets_stays(source: GroundingSource) -> None:
    sentence = "The client said «I can't stop worrying about work»."
    assert checked(sentence, source) == sentence


@pytest.mark.parametrize(
    "sentence",
    [
        # "I don't want to quit" with the negation left out.
        'The client said "I ... want to quit".',
        # "I can't stop worrying" with "can't" left out.
        'The client said "I ... stop worrying about work".',
    ],
)
def test_an_ellipsis_may_not_leave_out_a_negation(
    sentence: str, source: GroundingSource
) -> None:
    assert checked(sentence, source) == "The client said."


def test_an_ellipsis_leaving_out_other_words_stays(source: GroundingSource) -> None:
    sentence = 'The client said "I sleep ... four hours a night".'
    assert checked(sentence, source) == sentence


def test_a_severity_label_must_be_the_measures_own() -> None:
    item = (
        "PHQ-9 on 2026-11-30: 14 of 27 (moderate); 6 lower than at intake on "
        "2026-09-01 (reliable improvement)."
    )
    source = GroundingSource([], {"measure:PHQ-9": item})
    assert checked("PHQ-9 was 14 (moderate).", source) == "PHQ-9 was 14 (moderate)."
    for wrong in (
        "PHQ-9 was 14 (severe).",
        "PHQ-9 of 14, in the moderately severe range.",
        "The client scored in the mild range on the PHQ-9.",
    ):
        assert checked(wrong, source) == ""
    # A label far from any instrument is not read as its band.
    assert checked("Mild headaches.", source) == "Mild headaches."


def test_a_reversed_trend_goes(source: GroundingSource) -> None:
    assert checked("PHQ-9 worsened from 12 to 18.", source) == ""


@pytest.mark.parametrize(
    "sentence",
    [
        # The data went 18 -> 12: a lower PHQ-9 score is the better one.
        "PHQ-9 went from 12 to 18.",
        "PHQ-9 12 → 18.",
        "PHQ-9 rose from 18 to 12.",
        "PHQ-9 increased from 18 to 12 of 27.",
        "PHQ-9 worsened.",
        "PHQ-9 increased.",
        "PHQ-9 went up.",
        "The PHQ-9 score has steadily risen.",
        "The PHQ-9 score rose to 12.",
        "PHQ-9 has deteriorated since the last session.",
        "A rise in the PHQ-9 was noted.",
        "PHQ-9 showed a reliable deterioration.",
        # No GAD-7 scores are on record, so no change of them either.
        "GAD-7 improved.",
    ],
)
def test_a_change_against_the_scores_time_order_goes(
    sentence: str, source: GroundingSource
) -> None:
    assert checked(f"Sleep was discussed. {sentence}", source) == "Sleep was discussed."


@pytest.mark.parametrize(
    "sentence",
    [
        "PHQ-9 improved from 18 to 12.",
        "PHQ-9 went from 18 to 12.",
        "PHQ-9 18 → 12.",
        "PHQ-9 decreased.",
        "PHQ-9 improved.",
        "PHQ-9 went down.",
        "The PHQ-9 score dropped to 12.",
        "PHQ-9 fell from a score of 18 to 12 of 27.",
        "PHQ-9 showed a reliable improvement.",
        "A drop in the PHQ-9 was noted.",
        # Negated, the word states no direction.
        "PHQ-9 did not worsen.",
        # Direction words about something else than the score.
        "Mood worsened; PHQ-9 was 12.",
        "Sleep worsened and PHQ-9 was 12.",
        "PHQ-9 was 12 as her sleep worsened.",
        "PHQ-9 was 12 after an increase in work hours.",
        "The PHQ-9 reflects worsening sleep.",
        "COVID-19 cases increased.",
    ],
)
def test_a_change_the_scores_show_stays(sentence: str, source: GroundingSource) -> None:
    assert checked(sentence, source) == sentence


def test_changes_are_read_against_intake_and_the_previous_score() -> None:
    # Scores in time order: 20 at intake, 12 on 2026-11-16, 14 on 2026-11-30.
    item = (
        "PHQ-9 on 2026-11-30: 14 of 27 (moderate); 6 lower than at intake on "
        "2026-09-01 (reliable improvement); 2 higher than on 2026-11-16; "
        "3 administrations on record."
    )
    source = GroundingSource([], {"measure:PHQ-9": item})
    for kept in (
        "PHQ-9 fell from 20 at intake to 14.",
        "PHQ-9 rose from 12 to 14.",
        "PHQ-9 went from 20 to 12.",
        "PHQ-9 improved since intake.",
        "PHQ-9 worsened since the last administration.",
        "PHQ-9 rose to 14.",
        "PHQ-9 fell to 14.",
        "PHQ-9 dropped to 12.",
        "PHQ-9 improved from 20.",
    ):
        assert checked(kept, source) == kept
    for gone in (
        "PHQ-9 rose from 20 at intake to 14.",
        "PHQ-9 fell from 12 to 14.",
        "PHQ-9 went from 14 to 12.",
        "PHQ-9 went from 12 to 20.",
        "PHQ-9 rose to 12.",
        "PHQ-9 worsened from 20.",
    ):
        assert checked(gone, source) == ""


def test_improvement_is_not_judged_where_the_better_end_is_unknown() -> None:
    # WHO-5 is not catalogued: higher is better there, which the checks cannot know.
    item = "WHO-5 on 2026-11-30: 15 of 25; 5 higher than at intake on 2026-09-01."
    source = GroundingSource([], {"measure:WHO-5": item})
    for kept in (
        "WHO-5 increased.",
        "WHO-5 improved.",
        "WHO-5 worsened.",
        "WHO-5 rose from 10 to 15.",
    ):
        assert checked(kept, source) == kept
    for gone in ("WHO-5 decreased.", "WHO-5 went from 15 to 10."):
        assert checked(gone, source) == ""


def test_every_catalogued_instrument_is_better_lower() -> None:
    # The direction check reads "improved" as a fall for these.
    assert all(i.lower_is_better for i in INSTRUMENTS)
    source = GroundingSource(
        [],
        {
            "measure:GAD-7": "GAD-7 on 2026-11-30: 9 of 21; 3 higher than at intake "
            "on 2026-09-01."
        },
    )
    assert checked("GAD-7 worsened.", source) == "GAD-7 worsened."
    assert checked("GAD-7 improved.", source) == ""


def test_a_score_far_from_its_instrument_is_checked_against_it(
    source: GroundingSource,
) -> None:
    sentence = (
        "The PHQ-9, which the client completed in the waiting room before the "
        "session began today, came to 4."
    )
    assert checked(sentence, source) == ""


@pytest.mark.parametrize(
    "sentence",
    [
        # "four" was said, but not as a PHQ-9 score.
        "Her score on the PHQ-9, given before today's session, was four.",
        "The PHQ-9 the client completed in the waiting room before the session "
        "began today came to a total of 4 points.",
        # A figure with a unit must still be said somewhere.
        "PHQ-9 was 12 after 9 hours of sleep.",
        "PHQ-9, completed 3 days ago, was 12.",
    ],
)
def test_a_score_anywhere_in_its_clause_is_the_instruments(
    sentence: str, source: GroundingSource
) -> None:
    assert checked(f"Sleep was discussed. {sentence}", source) == "Sleep was discussed."


@pytest.mark.parametrize(
    "sentence",
    [
        "The PHQ-9, which the client completed in the waiting room before the "
        "session began today, came to 12.",
        # Other figures after the score: another clause, or a unit of their own.
        "PHQ-9 was 12; she sleeps 4 hours.",
        "PHQ-9 was 12, she sleeps 4 hours a night.",
        "PHQ-9 was 12 and she sleeps four hours.",
        "PHQ-9 was 12 after four nights of poor sleep.",
        "PHQ-9, completed 4 days ago, was 12.",
        "PHQ-9 was 12 at session 4.",
        "PHQ-9 was 12 on 2026-12-01.",
    ],
)
def test_other_figures_beside_a_score_stay(
    sentence: str, source: GroundingSource
) -> None:
    assert checked(sentence, source) == sentence


def test_therapist_words_under_an_implied_client_subject_go(
    source: GroundingSource,
) -> None:
    assert checked('Reported feeling "exhausted and overwhelmed".', source) == (
        "Reported feeling."
    )


@pytest.mark.parametrize(
    ("sentence", "left"),
    [
        ('Also stated "You sound exhausted".', "Also stated."),
        ('- Described feeling "overwhelmed by it all".', "- Described feeling."),
        (
            'Subjective: Denied being "exhausted and overwhelmed".',
            "Subjective: Denied being.",
        ),
        # A party named only after the quotation does not outrank the implied one.
        (
            'Said "you sound exhausted" when the therapist asked.',
            "Said when the therapist asked.",
        ),
    ],
)
def test_a_reporting_verb_with_no_subject_means_the_client(
    sentence: str, left: str, source: GroundingSource
) -> None:
    assert checked(sentence, source) == left


@pytest.mark.parametrize(
    "sentence",
    [
        'Reported "I can\'t stop worrying about work".',
        'Stated "I want to get better at it" when the therapist asked.',
        'The therapist said "You sound exhausted and overwhelmed".',
        'Reported feeling tired after the therapist said "you sound exhausted".',
        # No reporting verb: the sentence names no speaker, and anyone's words do.
        'Discussed feeling "exhausted and overwhelmed".',
    ],
)
def test_quotations_of_the_right_speaker_stay(
    sentence: str, source: GroundingSource
) -> None:
    assert checked(sentence, source) == sentence


@pytest.mark.timeout(60, method="thread")
def test_many_names_figures_and_changes_are_checked_in_linear_time(
    source: GroundingSource,
) -> None:
    for text in (
        "PHQ-9 was 12 " * 2000,
        "PHQ-9 went from 18 to 12 " * 2000,
        "PHQ-9" + " the" * 3000 + " improved" * 3000,
    ):
        checked(text, source)
