"""Compacting a transcript keeps its content in fewer tokens, and splitting prompt
material into chunks loses nothing and respects the size."""

from __future__ import annotations

import pytest

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript, Utterance
from notewell.drafter.condensing import (
    Line,
    chunks,
    material_chars,
    parse_points,
    point_line,
)
from notewell.drafter.model import InvalidModelOutput
from notewell.drafter.transcript import compact_lines, compact_text, is_backchannel

T = SpeakerRole.SPEAKER_ROLE_CLINICIAN
C = SpeakerRole.SPEAKER_ROLE_CLIENT


@pytest.mark.parametrize(
    ("said", "compacted"),
    [
        ("Um, I I think it was, uh, fine.", "I think it was, fine."),
        ("I think, you know, it was hard.", "I think it was hard."),
        ("You know, I tried. It was hard, you know.", "I tried. It was hard."),
        ("I mean, it's hard.", "it's hard."),
        ("wh- what do you want?", "what do you want?"),
        ("I-I-I'm not sure. I'll re-read it.", "I'm not sure. I'll re-read it."),
        ("Hmm, mm-hmm, erm.", ""),
        # Not fillers: a real question, a real meaning, grammatical repeats.
        ("Do you know, what he said?", "Do you know, what he said?"),
        ("I mean it.", "I mean it."),
        ("He had had enough of that that day.", "He had had enough of that that day."),
        ("My umbrella, uhm, the hum.", "My umbrella, the hum."),
        ("Erm, I went to the ER about a 3 mm cut.", "I went to the ER about a 3 mm cut."),
    ],
)
def test_compact_text_removes_fillers_and_repeats_only(said: str, compacted: str) -> None:
    assert compact_text(said) == compacted


@pytest.mark.parametrize(
    ("said", "only_acknowledges"),
    [
        ("Mm-hmm.", True),
        ("Yeah, okay.", True),
        ("Right, right. I see.", True),
        ("Um.", True),
        ("No.", False),
        ("Yeah, I drank more.", False),
        ("Okay, that's fair.", False),
    ],
)
def test_backchannels_are_recognised(said: str, only_acknowledges: bool) -> None:
    assert is_backchannel(said) is only_acknowledges


def test_compact_lines_join_a_speakers_turns_and_keep_answers() -> None:
    said = [
        (T, "How was the week?"),
        (C, "Yeah."),
        (T, "Mm-hmm."),
        (C, "Work was, um, long."),
        (T, "Right."),
        (C, "I, I slept badly."),
        (T, "Okay. And the diary?"),
        (C, "Uh"),
    ]
    transcript = Transcript(
        utterances=[
            Utterance(id=f"u{i}", role=role, text=text)
            for i, (role, text) in enumerate(said)
        ]
    )
    assert [line.render() for line in compact_lines(transcript)] == [
        "u0 T: How was the week?",
        # "Yeah." answers the question; the other acknowledgements are dropped and
        # the client's turns around them share the line of the first.
        "u1 C: Yeah. Work was, long. I slept badly.",
        "u6 T: Okay. And the diary?",
    ]


def test_chunks_are_balanced_bounded_and_complete() -> None:
    lines = [Line(f"u{i} C:", "word " * (i % 7 + 3)) for i in range(200)]
    parts = chunks(lines, 1000)
    assert all(material_chars(part) <= 1000 for part in parts)
    assert [line for part in parts for line in part] == lines
    sizes = [material_chars(part) for part in parts]
    # Equal-ish chunks, not full ones and a scrap at the end.
    assert min(sizes) > 0.6 * max(sizes)


def test_a_line_longer_than_a_chunk_is_split_keeping_its_label() -> None:
    words = [f"w{i}" for i in range(600)]
    long = Line("u3 C:", " ".join(words))
    parts = chunks([Line("u2 T:", "Go on."), long], 500)
    pieces = [line for part in parts for line in part]
    assert pieces[0] == Line("u2 T:", "Go on.")
    assert all(p.label == "u3 C:" for p in pieces[1:])
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
