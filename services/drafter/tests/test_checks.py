"""What the checks keep and remove, on the short invented session."""

from __future__ import annotations

from notewell.drafter.checks import check_sections, normalise
from notewell.drafter.soap import NOT_ADDRESSED, Section


def test_normalising_ignores_case_spacing_and_punctuation() -> None:
    assert normalise("  Can’t   get BACK—to sleep! ") == normalise(
        "can't get back to sleep"
    )
    assert normalise("  Can’t   get BACK—to sleep! ") == "can t get back to sleep"


def test_verbatim_quotes_stay_and_invented_ones_go(short_transcript) -> None:
    sections = [
        Section(
            "subjective", 'Client: “I wake up around four” and "I never sleep at all".'
        ),
        Section("objective", "He said “my HANDS were shaking.”"),
        Section("assessment", 'Reported "the chest got tight" and “leave the room”.'),
        Section("plan", "Keep a worry log."),
    ]
    checked, report = check_sections(sections, short_transcript)
    texts = [s.text for s in checked]
    assert texts[0] == "Client: “I wake up around four” and."
    assert texts[1] == "He said “my HANDS were shaking.”"
    # "the chest got tight" is not what was said ("My chest got tight").
    assert texts[2] == "Reported and “leave the room”."
    assert texts[3] == "Keep a worry log."
    assert report.removed_quotes == 2


def test_a_quote_must_match_whole_words(short_transcript) -> None:
    # "ate my" occurs inside "manager is going" only as letters, never as words.
    [checked], _ = check_sections(
        [Section("subjective", 'Said "ager is go" twice.')], short_transcript
    )
    assert checked.text == "Said twice."


def test_unpaired_quote_marks_are_dropped(short_transcript) -> None:
    [checked], _ = check_sections(
        [Section("subjective", 'The client said "nothing helps at all')],
        short_transcript,
    )
    assert checked.text == "The client said nothing helps at all"


def test_unknown_evidence_is_dropped_and_duplicates_merged(short_transcript) -> None:
    [checked], report = check_sections(
        [Section("plan", "Worry log.", ("u14", "u14", "u77", "", "U3", "[u5]"))],
        short_transcript,
    )
    assert checked.utterance_ids == ("u14", "u5")
    assert report.dropped_ids == 4


def test_a_section_emptied_by_the_checks_says_so(short_transcript) -> None:
    sections = [
        Section("subjective", '"I love my job," ', ("u1",)),
        Section("objective", "  "),
        Section("assessment", "…"),
        Section("plan", "Breathing practice.", ("u14",)),
    ]
    checked, report = check_sections(sections, short_transcript)
    assert [s.text for s in checked[:3]] == [NOT_ADDRESSED] * 3
    assert [s.utterance_ids for s in checked[:3]] == [()] * 3
    assert checked[3] == Section("plan", "Breathing practice.", ("u14",))
    assert report.emptied_sections == 3
