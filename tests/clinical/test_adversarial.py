"""Model-written text that reads plausibly but is wrong, against the grounding checks:
each case is one way a draft could slip something past them."""

from __future__ import annotations

import time

import pytest

from notewell.clinical.grounding import GroundingSource, check_text
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


def test_a_long_unpunctuated_sentence_is_checked_quickly(
    source: GroundingSource,
) -> None:
    started = time.monotonic()
    checked("Client did not report " * 2000 + "denies the thing " * 4000, source)
    assert time.monotonic() - started < 3.0


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


@pytest.mark.xfail(
    strict=True,
    reason="figures are matched as a set, not in time order: a reversed trend passes",
)
def test_a_reversed_trend_goes(source: GroundingSource) -> None:
    assert checked("PHQ-9 worsened from 12 to 18.", source) == ""


@pytest.mark.xfail(
    strict=True,
    reason="a score more than 50 characters after the instrument name is read as any "
    "figure of the session",
)
def test_a_score_far_from_its_instrument_is_checked_against_it(
    source: GroundingSource,
) -> None:
    sentence = (
        "The PHQ-9, which the client completed in the waiting room before the "
        "session began today, came to 4."
    )
    assert checked(sentence, source) == ""


@pytest.mark.xfail(
    strict=True,
    reason="a sentence naming no speaker accepts anyone's words, though its implied "
    "subject is the client",
)
def test_therapist_words_under_an_implied_client_subject_go(
    source: GroundingSource,
) -> None:
    assert checked('Reported feeling "exhausted and overwhelmed".', source) == (
        "Reported feeling."
    )
