"""The grammar that holds each item of a section's sentences to one sentence."""

from __future__ import annotations

import json
import re

import pytest

from notewell.drafter.formats import sentence_pattern


def _json_text(sentence: str) -> str:
    """The characters a server writes for ``sentence`` inside a JSON string, which is
    what it holds to the pattern."""
    return json.dumps(sentence, ensure_ascii=False)[1:-1]


@pytest.mark.parametrize(
    "sentence",
    [
        "The client slept 7.5 hours a night, e.g., on weekdays.",
        'The client said "I want to quit." and then smiled.',
        "The client asked whether it would help, and agreed to try?",
        'The client described the week as "rough."',
        "The client described the week as 'rough.'",
        "The client (age 34) reported fewer cravings (PHQ-9 of 12).",
        "Ms. Ortiz called at 4 p.m. to move the session to Mrs. Ortiz's time.",
    ],
)
def test_the_sentence_pattern_admits_one_sentence(sentence: str) -> None:
    assert re.fullmatch(sentence_pattern(), _json_text(sentence))


@pytest.mark.parametrize(
    "text",
    [
        # Two sentences in one item.
        "The client slept poorly this week. Cravings were lower than last week.",
        'The client said "I quit." She then described the week.',
        # A fragment, and a run-on past the limit.
        "Slept poorly.",
        "The client " + "and then " * 30 + "left.",
        # No sentence end.
        "The client slept poorly this week",
    ],
)
def test_the_sentence_pattern_refuses_anything_else(text: str) -> None:
    assert not re.fullmatch(sentence_pattern(), _json_text(text))


def test_the_sentence_pattern_keeps_the_json_valid() -> None:
    """The server applies the pattern to the JSON text: a bare quote, a backslash or a
    newline there would end the string early or break the JSON."""
    pattern = sentence_pattern()
    assert not re.fullmatch(pattern, 'The client said "I quit" and smiled.')
    assert not re.fullmatch(pattern, "The client wrote a\\b on the form today.")
    assert not re.fullmatch(pattern, "The client slept poorly\nthis week again.")


def test_the_voice_names_may_hold_full_stops() -> None:
    sentence = "Dr. Lee reviewed the plan with J.A.B. and set one goal."
    assert not re.fullmatch(sentence_pattern(), _json_text(sentence))
    assert re.fullmatch(sentence_pattern(("Dr. Lee", "J.A.B.")), _json_text(sentence))


def test_the_pattern_uses_only_escapes_a_grammar_parser_knows() -> None:
    """llama.cpp turns the pattern into a grammar whose parser knows few escapes (an
    unknown one fails the grammar and takes the server down): the pattern escapes
    only backslashes and control characters, however the names are spelt."""
    names = ("Dr. Lee", "J.A.B.", "O'Neil, J.", "Ana-María R. (she)", 'The "Doc". \\ [x]')
    pattern = sentence_pattern(names)
    escapes = set(re.findall(r"\\(.)", pattern))
    assert escapes <= {"\\", "x"}, escapes
    assert "J[.]A[.]B[.]" in pattern and "O[']Neil[,] J[.]" in pattern
    assert "Ana[-]María R[.] [(]she[)]" in pattern
    assert "Doc" not in pattern
