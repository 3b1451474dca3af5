"""Sentence cutting, layout at the cursor, theme counting and the catalogue's data,
without any server."""

from __future__ import annotations

import pytest

from notewell.notes.v1.note_pb2 import Note, NoteSection
from notewell.prompts import catalog
from notewell.prompts.sentences import SentenceBuffer
from notewell.prompts.style import layout_at, line_lead
from notewell.prompts.themes import recurring_themes


def cut(*chunks: str) -> list[str]:
    buffer = SentenceBuffer()
    out: list[str] = []
    for chunk in chunks:
        out += buffer.feed(chunk)
    return out + buffer.flush()


def test_sentences_are_released_only_when_complete() -> None:
    buffer = SentenceBuffer()
    assert buffer.feed("PHQ-9 fell from 20 to 9.5 poi") == []
    assert buffer.feed("nts. Sleep") == ["PHQ-9 fell from 20 to 9.5 points."]
    assert buffer.feed(" improved, e.g. on weekdays") == []
    assert buffer.feed("!\n- **Keep** the diary\n") == [
        "Sleep improved, e.g. on weekdays!",
        "Keep the diary",
    ]
    assert buffer.flush() == []


def test_quotations_and_list_items_stay_whole() -> None:
    assert cut('The client said "I slept." Then', " it rained.\n1. One\n2) Two") == [
        'The client said "I slept."',
        "Then it rained.",
        "One",
        "Two",
    ]


@pytest.mark.parametrize(
    ("text", "cursor", "default", "expected"),
    [
        ("", 0, "list", ("list", "")),
        ("", 0, "paragraph", ("paragraph", "")),
        ("Discussed options.", 18, "list", ("paragraph", " ")),
        ("Discussed options. ", 19, "list", ("paragraph", "")),
        ("- one\n- two\n", 12, "paragraph", ("list", "")),
        ("- one\n- two", 11, "paragraph", ("list", "\n")),
        # At the start of a section, the text after the cursor decides.
        ("- one\n", 0, "paragraph", ("list", "")),
    ],
)
def test_layout_follows_the_text_before_the_cursor(
    text: str, cursor: int, default: str, expected: tuple[str, str]
) -> None:
    assert layout_at(text, cursor, default) == expected


def test_headings_start_on_a_line_of_their_own() -> None:
    assert line_lead("", 0) == ""
    assert line_lead("Opened.", 7) == "\n"
    assert line_lead("Opened.\n", 8) == ""


def test_themes_count_notes_and_mentions_whole_words() -> None:
    notes = [
        Note(note_id="n1", sections=[NoteSection(text="Work stress and poor sleep.")]),
        Note(note_id="n2", sections=[NoteSection(text="Slept badly; a deadline.")]),
        Note(
            note_id="n3", sections=[NoteSection(text="Sleepy? No: downstairs sadness.")]
        ),
    ]
    found = {t.label: (t.note_ids, t.mentions) for t in recurring_themes(notes, 2)}
    # "Sleepy" is not "sleep"; "downstairs" is not "feeling down".
    assert found == {"sleep": (("n1", "n2"), 2), "work stress": (("n1", "n2"), 2)}


def test_catalogue_data_is_complete() -> None:
    prompts = catalog.prompts()
    groups = [p.group for p in prompts.values()]
    assert {g: groups.count(g) for g in catalog.GROUPS} == {
        "ideas": 4,
        "patterns": 4,
        "summaries": 4,
    }
    for prompt in prompts.values():
        assert prompt.no_data.endswith("recorded for this client yet.")
    assert list(catalog.formats()) == ["SOAP", "DAP", "BIRP", "GIRP", "PIE", "NARRATIVE"]
    assert catalog.blank_text(catalog.format_headings("dap")) == (
        "Data:\n\nAssessment:\n\nPlan:\n\n"
    )
