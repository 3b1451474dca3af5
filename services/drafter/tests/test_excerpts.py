"""Excerpts of a long session keep its turns' own sentences, in order and within the
budget, and keep what a note must not lose."""

from __future__ import annotations

import itertools
import random

from notewell.drafter.excerpts import ELISION, GAP, excerpt
from notewell.drafter.transcript import Line, material_chars

FILLER_TOPICS = [
    "the commute to the office",
    "the weekly shopping",
    "the garden at the back",
    "the neighbours upstairs",
    "the broken washing machine",
]

WHEN = ["again today", "again briefly", "at length"]


def _turns(count: int, seed: int = 5) -> list[Line]:
    rng = random.Random(seed)
    lines: list[Line] = []
    for number in range(count):
        speaker = "T" if number % 2 == 0 else "C"
        sentences = [
            f"We talked about {rng.choice(FILLER_TOPICS)} {rng.choice(WHEN)}."
            for _ in range(rng.randint(2, 4))
        ]
        lines.append(Line(f"u{number} {speaker}:", " ".join(sentences)))
    return lines


def _is_excerpt_of(kept: Line, whole: Line) -> bool:
    """Whether ``kept`` is ``whole``'s own sentences, in order, with marks between."""
    pieces = [p.strip() for p in kept.text.split(ELISION) if p.strip()]
    position = 0
    for piece in pieces:
        found = whole.text.find(piece, position)
        if found < 0:
            return False
        position = found + len(piece)
    return kept.label == whole.label


def test_lines_that_fit_are_returned_whole() -> None:
    lines = _turns(10)
    assert excerpt(lines, material_chars(lines)) == lines


def test_excerpts_fit_the_budget_and_are_the_turns_own_sentences_in_order() -> None:
    lines = _turns(300)
    by_label = {line.label: line for line in lines}
    for share in (0.2, 0.4, 0.7):
        budget = int(material_chars(lines) * share)
        chosen = excerpt(lines, budget)
        assert chosen is not None
        assert material_chars(chosen) <= budget
        # Most of the budget is used: the session is shortened no more than needed.
        assert material_chars(chosen) > 0.9 * budget
        labels = [line.label for line in chosen if line is not GAP]
        assert labels == sorted(labels, key=lambda label: int(label[1:].split()[0]))
        for line in chosen:
            if line is not GAP:
                assert _is_excerpt_of(line, by_label[line.label])
        # No two gap lines in a row.
        assert all(a is not GAP or b is not GAP for a, b in itertools.pairwise(chosen))


def test_risk_language_figures_opening_and_closing_are_always_kept() -> None:
    lines = _turns(300)
    # Said in the session's most worn words, so nothing but the rule keeps them.
    lines[150] = Line(
        "u150 T:", "We talked about the garden again. Any thoughts of suicide?"
    )
    lines[151] = Line("u151 C:", "We talked about the commute again. Only 14 today.")
    lines[201] = Line("u201 C:", "We talked about the garden. I want to hurt myself.")
    chosen = excerpt(lines, material_chars(lines) // 10)
    assert chosen is not None
    text = "\n".join(line.render() for line in chosen)
    assert "Any thoughts of suicide?" in text
    assert "Only 14 today." in text
    assert "I want to hurt myself." in text
    assert chosen[:4] == lines[:4]
    assert chosen[-6:] == lines[-6:]


def test_each_topic_of_the_session_is_represented_not_only_the_most_frequent() -> None:
    lines = _turns(200)
    rare = {
        40: "My daughter starts university in October.",
        90: "The panic attacks came back on the train.",
        140: "I have started running with my brother.",
    }
    for number, sentence in rare.items():
        lines[number] = Line(lines[number].label, sentence)
    chosen = excerpt(lines, material_chars(lines) // 5)
    assert chosen is not None
    text = "\n".join(line.render() for line in chosen)
    for sentence in rare.values():
        assert sentence in text
    # Every filler topic is there too, though each was said dozens of times.
    for topic in FILLER_TOPICS:
        assert topic in text


def test_none_when_risk_language_alone_exceeds_the_budget() -> None:
    lines = [
        Line(f"u{i} C:", "I keep thinking about killing myself at night.")
        for i in range(40)
    ]
    assert excerpt(lines, 200) is None


def test_a_turn_without_punctuation_is_chosen_from_in_pieces() -> None:
    words = [f"{topic.split()[-1]}{n}" for n in range(1500) for topic in FILLER_TOPICS]
    monologue = Line("u0 C:", " ".join(words))
    chosen = excerpt([monologue], 3000)
    assert chosen is not None
    assert 2000 < material_chars(chosen) <= 3000
    assert all(_is_excerpt_of(line, monologue) for line in chosen if line is not GAP)
