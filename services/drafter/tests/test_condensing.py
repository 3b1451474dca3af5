"""Splitting prompt material into chunks loses nothing and respects the size."""

from __future__ import annotations

import pytest

from notewell.drafter.condensing import (
    Line,
    chunks,
    material_chars,
    parse_points,
    point_line,
)
from notewell.drafter.model import InvalidModelOutput


def test_chunks_are_balanced_bounded_and_complete() -> None:
    lines = [Line(f"[u{i}] CLIENT:", "word " * (i % 7 + 3)) for i in range(200)]
    parts = chunks(lines, 1000)
    assert all(material_chars(part) <= 1000 for part in parts)
    assert [line for part in parts for line in part] == lines
    sizes = [material_chars(part) for part in parts]
    # Equal-ish chunks, not full ones and a scrap at the end.
    assert min(sizes) > 0.6 * max(sizes)


def test_a_line_longer_than_a_chunk_is_split_keeping_its_label() -> None:
    words = [f"w{i}" for i in range(600)]
    long = Line("[u3] CLIENT:", " ".join(words))
    parts = chunks([Line("[u2] THERAPIST:", "Go on."), long], 500)
    pieces = [line for part in parts for line in part]
    assert pieces[0] == Line("[u2] THERAPIST:", "Go on.")
    assert all(p.label == "[u3] CLIENT:" for p in pieces[1:])
    assert " ".join(p.text for p in pieces[1:]).split() == words
    assert all(material_chars(part) <= 500 for part in parts)


def test_a_point_line_names_its_evidence() -> None:
    assert point_line(" Sleep   is poor. ", ("u3", "u9")).render() == (
        "[u3, u9] Sleep is poor."
    )
    assert point_line("Unsourced.", ()).render() == "[no id] Unsourced."


def test_an_answer_cut_off_at_the_token_limit_keeps_its_complete_points() -> None:
    cut = (
        '{"points": [{"text": "Sleep is poor.", "utterance_ids": ["u9"]}, '
        '{"text": "Panic at {work}", "utterance_ids": ["u1", "u3"]}, '
        '{"text": "Two panic att'
    )
    assert parse_points(cut) == [
        ("Sleep is poor.", ["u9"]),
        ("Panic at {work}", ["u1", "u3"]),
    ]
    with pytest.raises(InvalidModelOutput):
        parse_points('{"points": [{"text": "Two panic att')
    with pytest.raises(InvalidModelOutput):
        parse_points('{"points": "none"}')
