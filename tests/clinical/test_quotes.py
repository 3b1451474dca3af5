from __future__ import annotations

import pytest

from notewell.clinical.quotes import (
    QuoteIndex,
    find_quotations,
    limit_quotes,
    normalise,
    verify_quotes,
)
from notewell.common.v1.common_pb2 import SpeakerRole, Utterance

CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT
THERAPIST = SpeakerRole.SPEAKER_ROLE_CLINICIAN
CLIENT_WORDS = {"the client", "client", "she", "Maria"}
THERAPIST_WORDS = {"the therapist", "therapist", "clinician"}

UTTERANCES = [
    Utterance(
        id="u0",
        role=THERAPIST,
        start_seconds=0,
        text="Let's take it one step at a time, okay?",
    ),
    Utterance(
        id="u1",
        role=CLIENT,
        start_seconds=6,
        text="I can’t sleep, and honestly I'm tired all the time.",
    ),
    Utterance(
        id="u2",
        role=CLIENT,
        start_seconds=15,
        text="My mom always says \"you'll be fine\" but I'm not.",
    ),
]


@pytest.fixture
def index() -> QuoteIndex:
    return QuoteIndex(UTTERANCES, {"note:n1": "Client described feeling hopeless."})


def verify(text: str, index: QuoteIndex) -> tuple[str, int]:
    return verify_quotes(text, index, CLIENT_WORDS, THERAPIST_WORDS)


def test_normalise_unifies_case_apostrophes_and_punctuation() -> None:
    assert normalise("  I CAN’T—sleep, ‘really’!  ") == "i can t sleep really"
    assert normalise("A&Ox3") == "a ox3"


def test_find_is_whole_words_after_normalising(index: QuoteIndex) -> None:
    assert [u.id for u in index.find("can't sleep")] == ["u1"]
    assert [u.id for u in index.find("I CAN’T SLEEP,")] == ["u1"]
    assert index.find("an't sle") == []
    assert index.find("   ") == []
    assert [u.id for u in index.find("you'll be fine")] == ["u2"]
    assert index.find_extra("feeling hopeless") == ["note:n1"]


def test_an_ellipsis_stands_for_words_left_out(index: QuoteIndex) -> None:
    assert [u.id for u in index.find("I can't sleep … tired all the time")] == ["u1"]
    assert [u.id for u in index.find("I can't sleep... honestly")] == ["u1"]
    assert index.find("tired all the time ... I can't sleep") == []
    assert index.find("…") == []
    assert verify("She said “I can’t sleep ... I’m tired”.", index) == (
        "She said “I can’t sleep ... I’m tired”.",
        0,
    )


def test_a_spoken_quote_stays_in_straight_or_curly_marks(index: QuoteIndex) -> None:
    text = 'Maria said “I can’t sleep” and "I\'m tired all the time."'
    assert verify(text, index) == (text, 0)


def test_an_unspoken_quote_goes_with_its_marks_and_spacing_is_tidied(
    index: QuoteIndex,
) -> None:
    text = "The client said “I feel worthless” , and “I can't sleep”."
    assert verify(text, index) == ("The client said, and “I can't sleep”.", 1)


def test_apostrophes_inside_a_quotation_do_not_end_it(index: QuoteIndex) -> None:
    # Curly apostrophes are the same character as a closing single quote.
    text = "She said ‘I can’t sleep’ and ‘I’m never tired’ today."
    assert verify(text, index) == ("She said ‘I can’t sleep’ and today.", 1)


def test_words_the_therapist_said_are_not_the_clients(index: QuoteIndex) -> None:
    text = 'Maria said "one step at a time" was hard. She sleeps badly.'
    assert verify(text, index) == ("Maria said was hard. She sleeps badly.", 1)


def test_words_the_therapist_said_may_be_quoted_as_the_therapists(
    index: QuoteIndex,
) -> None:
    text = 'The therapist suggested "one step at a time".'
    assert verify(text, index) == (text, 0)


def test_the_nearest_party_before_the_quote_is_the_speaker(index: QuoteIndex) -> None:
    kept = "The therapist reflected that the client is “tired all the time”."
    assert verify(kept, index) == (kept, 0)
    wrong = "The client heard the therapist say “tired all the time”."
    assert verify(wrong, index) == ("The client heard the therapist say.", 1)


def test_a_quote_with_no_named_party_needs_only_to_be_said(index: QuoteIndex) -> None:
    text = 'Focus stays on "one step at a time".'
    assert verify(text, index) == (text, 0)


def test_quote_from_a_context_item_counts_as_said(index: QuoteIndex) -> None:
    text = 'Last session the client was "feeling hopeless".'
    assert verify(text, index) == (text, 0)


def test_unpaired_marks_are_dropped(index: QuoteIndex) -> None:
    assert verify("The client said “I can't sleep” and \"so on", index) == (
        "The client said “I can't sleep” and so on",
        0,
    )


def test_inner_single_quotes_of_a_verified_quotation_are_kept(index: QuoteIndex) -> None:
    text = "She said “My mom always says 'you'll be fine' but I'm not.”"
    assert verify(text, index) == (text, 0)


def test_lines_are_kept_and_emptied_lines_dropped(index: QuoteIndex) -> None:
    text = "- “I can't sleep”\n- “I never said this”\n- Works nights."
    assert verify(text, index) == ("- “I can't sleep”\n- Works nights.", 1)


def test_limit_keeps_the_first_quotations_and_unquotes_the_rest() -> None:
    text = "She said \"a b\" and “c d” then 'e f'."
    assert limit_quotes(text, None) == text
    assert limit_quotes(text, 1) == 'She said "a b" and c d then e f.'
    assert limit_quotes(text, 0) == "She said a b and c d then e f."
    assert limit_quotes(text, 5) == text


def test_possessives_and_contractions_are_not_quotations() -> None:
    text = "The kids' school and her parents' house; she's fine, isn't she?"
    assert find_quotations(text) == []


def test_a_sentence_opening_on_a_reporting_verb_quotes_the_client(
    index: QuoteIndex,
) -> None:
    # "one step at a time" is the therapist's; "I can't sleep" the client's.
    assert verify('Reported "one step at a time".', index) == ("Reported.", 1)
    assert verify('Shared "one step at a time".', index) == ("Shared.", 1)
    kept = 'Reported "I can\'t sleep" when the therapist asked.'
    assert verify(kept, index) == (kept, 0)
    named = 'Reported that the therapist said "one step at a time".'
    assert verify(named, index) == (named, 0)
    # Not a reporting verb: no speaker is implied.
    assert verify('Practised "one step at a time".', index)[1] == 0
