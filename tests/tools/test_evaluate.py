"""The evaluation harness's metrics, on hand-made notes: no model needed."""

from __future__ import annotations

import pytest

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell_tools import evaluate
from notewell_tools.evaluate import Drafted, aci_transcript, annomi_result
from notewell_tools.note_metrics import (
    expected_sections,
    matched_numbers,
    numbers,
    quotations,
    risk_sentences,
    rouge,
    said_verbatim,
)

T = SpeakerRole.SPEAKER_ROLE_CLINICIAN
C = SpeakerRole.SPEAKER_ROLE_CLIENT
NOT_ADDRESSED = "Not addressed in this session."


def test_rouge_is_in_percent_and_counts_overlap() -> None:
    assert rouge("the cat sat on the mat", "the cat sat on the mat") == {
        "rouge1": 100.0,
        "rouge2": 100.0,
        "rougeL": 100.0,
        "rougeLsum": 100.0,
    }
    assert rouge("dogs bark", "the cat sat")["rouge1"] == 0.0
    partial = rouge("the cat sat", "the cat sat on the mat")
    # Precision 1, recall 3/6 for unigrams and 2/5 for bigrams.
    assert partial["rouge1"] == pytest.approx(66.67)
    assert partial["rouge2"] == pytest.approx(57.14)
    assert partial["rougeL"] == pytest.approx(66.67)


def test_quotations_are_found_verbatim_within_one_utterance() -> None:
    said = ["I just feel stuck, honestly.", "Work is, um, too much."]
    note = (
        'She said “I just feel STUCK” and "work is um too much" and '
        '"feel stuck honestly".'
    )
    assert quotations(note) == [
        "I just feel STUCK",
        "work is um too much",
        "feel stuck honestly",
    ]
    assert said_verbatim("I just feel STUCK", said)
    assert said_verbatim("work is um too much", said)
    assert said_verbatim("feel stuck honestly", said)
    # Words from two utterances, words left out, and words never said are not verbatim.
    assert not said_verbatim("honestly work is", said)
    assert not said_verbatim("work is too much", said)
    assert not said_verbatim("I feel stuck", said)
    assert said_verbatim("I just … honestly", said)
    assert not said_verbatim("honestly … I just", said)
    assert not said_verbatim("  ", said)


def test_numbers_read_digits_and_words_alike_and_skip_instrument_names() -> None:
    assert numbers("Three sessions; PHQ-9 of 14, 2.50 hours, 007 and twenty.") == [
        "3",
        "14",
        "2.5",
        "7",
        "20",
    ]
    assert matched_numbers(
        "Slept 4 hours for three nights; 12 drinks.", ["I slept four hours", "3 nights"]
    ) == (2, 3)
    assert matched_numbers("No figures here.", ["1 2 3"]) == (0, 0)


def test_risk_sentences_are_the_ones_naming_risk() -> None:
    text = (
        "The client slept badly. She denied suicidal thoughts.\n"
        "No self-harm was reported."
    )
    assert risk_sentences(text) == [
        "She denied suicidal thoughts.",
        "No self-harm was reported.",
    ]


def _transcript(*turns: tuple[int, str]) -> Transcript:
    return Transcript(
        session_id="s1",
        utterances=[
            Utterance(id=f"u{i}", role=r, text=t) for i, (r, t) in enumerate(turns)
        ],
    )


def test_an_annomi_draft_is_measured_section_by_section() -> None:
    transcript = _transcript(
        (T, "How many drinks a week now? " + "Tell me more about that. " * 10),
        (C, "About ten drinks. Sometimes I think about killing myself. " + "ok " * 50),
        (T, "Let's plan to track it until next week."),
    )
    drafted = Drafted(
        sections=[
            (
                "subjective",
                "Subjective",
                'Drinks 10 a week, "about ten drinks". 3 bad days.',
            ),
            ("objective", "Objective", "Engaged; suicidal thoughts explored."),
            ("assessment", "Assessment", NOT_ADDRESSED),
            ("plan", "Plan", "Track drinking until next week."),
        ],
        evidence=[
            ('Drinks 10 a week, "about ten drinks". 3 bad days.', ("u1",)),
            ("Engaged; suicidal thoughts explored.", ("u0",)),
            (NOT_ADDRESSED, ()),
            ("Track drinking until next week.", ("u2",)),
            ('Client: “I think about killing myself” (u1). "never said".', ("u1",)),
        ],
        seconds=12.34,
        fallback=False,
    )
    result = annomi_result(
        "annomi-1", "brief", transcript, "50 minutes", drafted, NOT_ADDRESSED
    )
    assert (result.quotes, result.quotes_verbatim) == (3, 2)
    # "10" and the quoted "ten" are said; "3" is in no source.
    assert (result.numbers, result.numbers_matched) == (3, 2)
    # The objective's risk sentence cites u0, which says nothing of risk.
    assert (result.risk_statements, result.risk_without_evidence) == (2, 1)
    assert result.missing_sections == ["assessment"]
    assert result.note_words == 10 + 4 + 5 + 5
    assert result.seconds == 12.3


def test_a_short_session_expects_no_sections_it_has_no_content_for() -> None:
    transcript = _transcript((T, "Hello."), (C, "Hi."))
    assert expected_sections(transcript) == set()


def test_aci_transcript_keeps_speakers_and_continuation_lines() -> None:
    source = (
        "[doctor] hi , andrew .\n[patient] hey .\ncontinued here\n"
        "[patient_guest] he snores .\n\n[doctor] okay ."
    )
    transcript = aci_transcript(source, "aci-0")
    assert [(u.id, u.role, u.text) for u in transcript.utterances] == [
        ("u0", T, "hi , andrew ."),
        ("u1", C, "hey . continued here"),
        ("u2", SpeakerRole.SPEAKER_ROLE_OTHER, "he snores ."),
        ("u3", T, "okay ."),
    ]


def test_the_report_puts_drafted_scores_beside_the_published_ones() -> None:
    aci = [
        evaluate.AciResult(
            "a", 100, 10.0, False, 50, rouge("a b c", "a b d"), rouge("a", "a b d")
        ),
        evaluate.AciResult(
            "b", 100, 20.0, True, 50, rouge("a b", "a b"), rouge("x", "a b")
        ),
    ]
    totals = evaluate.summary(aci, [])
    assert totals["aci"]["drafted"]["rouge1"] == pytest.approx(
        (66.67 + 100) / 2, abs=0.01
    )
    assert totals["aci"]["transcript_copied"]["rouge1"] == pytest.approx(25.0)
    assert totals["aci"]["seconds_per_encounter"] == 15.0
    assert totals["aci"]["fallbacks"] == 1
    text = evaluate.markdown(totals, "qwen")
    assert "| notewell drafter (these encounters) | 83.34 | 75.0 |" in text
    assert "| published: GPT-4 (zero-shot) (all 40) | 51.76 | 22.58 | 45.97 | |" in text
    assert "| published: transcript copied as the note (all 40) | 32.84 |" in text
