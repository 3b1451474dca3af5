"""Recurring themes across signed notes, counted in code against the lexicon in
``data/themes.json`` (a theme per label, the phrases that signal it)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from notewell.notes.v1.note_pb2 import Note


@dataclass(frozen=True)
class ThemeCount:
    label: str
    # Notes that mention the theme, in the order given (newest first from the store).
    note_ids: tuple[str, ...]
    # Mentions over all those notes.
    mentions: int

    @property
    def note_count(self) -> int:
        return len(self.note_ids)

    @property
    def context_id(self) -> str:
        return "theme:" + self.label.replace(" ", "_")


@cache
def lexicon() -> dict[str, re.Pattern[str]]:
    """Each theme's phrases as one whole-word, case-insensitive pattern."""
    raw = json.loads((Path(__file__).parent / "data" / "themes.json").read_text("utf-8"))
    patterns: dict[str, re.Pattern[str]] = {}
    for theme in raw["themes"]:
        # Longest first, so "work stress" is one mention and not also "work".
        phrases = sorted(theme["phrases"], key=len, reverse=True)
        alternatives = "|".join(re.escape(p) for p in phrases)
        patterns[theme["label"]] = re.compile(rf"\b(?:{alternatives})\b", re.IGNORECASE)
    return patterns


def note_text(note: Note) -> str:
    return "\n".join(s.text for s in note.sections)


def recurring_themes(notes: list[Note], min_notes: int = 1) -> list[ThemeCount]:
    """Themes mentioned in at least ``min_notes`` notes, most notes first (then most
    mentions, then label)."""
    counts: list[ThemeCount] = []
    for label, pattern in lexicon().items():
        ids: list[str] = []
        mentions = 0
        for note in notes:
            found = len(pattern.findall(note_text(note)))
            if found:
                ids.append(note.note_id)
                mentions += found
        if len(ids) >= min_notes:
            counts.append(ThemeCount(label, tuple(ids), mentions))
    counts.sort(key=lambda t: (-t.note_count, -t.mentions, t.label))
    return counts
