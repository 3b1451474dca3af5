"""Everything a prompt rests on, computed in code from the client's record: score and
wearable sentences, treatment history, recurring themes and note excerpts. The model
is handed these as facts and never computes a figure itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date

from notewell.clinical import measures, wearables
from notewell.measures.v1.measures_pb2 import (
    Measurement,
    MeasureSummary,
    WearableDay,
    WearableTrend,
)
from notewell.notes.v1.note_pb2 import ClientProfile, Note
from notewell.prompts.themes import ThemeCount, recurring_themes


@dataclass(frozen=True)
class Fact:
    """A sentence computed in code and the record item it comes from."""

    context_id: str
    text: str


@dataclass(frozen=True)
class NoteExcerpt:
    context_id: str
    date: str
    text: str


@dataclass
class Facts:
    scores: list[Fact] = field(default_factory=list)
    wearables: list[Fact] = field(default_factory=list)
    history: list[Fact] = field(default_factory=list)
    themes: list[Fact] = field(default_factory=list)
    notes: list[NoteExcerpt] = field(default_factory=list)
    summaries: list[MeasureSummary] = field(default_factory=list)
    trends: list[WearableTrend] = field(default_factory=list)
    theme_counts: list[ThemeCount] = field(default_factory=list)

    def has(self, source: str) -> bool:
        return bool(getattr(self, source))

    def of(self, sources: frozenset[str]) -> list[Fact]:
        """The facts of those sources, in a fixed order (notes are excerpts, not
        facts)."""
        out: list[Fact] = []
        for source in ("history", "scores", "wearables", "themes"):
            if source in sources:
                out += getattr(self, source)
        return out


def service_date(note: Note) -> str:
    at = note.date_of_service if note.HasField("date_of_service") else note.created_at
    return at.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d")


def score_facts(measurements: Sequence[Measurement]) -> list[Fact]:
    return [
        Fact(summary.context_id, measures.describe_measure(summary))
        for summary in measures.summarise(measurements)
    ]


def wearable_facts(trends: Sequence[WearableTrend]) -> list[Fact]:
    return [Fact(t.context_id, wearables.describe_trend(t)) for t in trends]


def history_facts(notes: Sequence[Note], client: ClientProfile | None) -> list[Fact]:
    """Sessions on record and their dates, and the recorded diagnoses."""
    if not notes:
        return []
    dates = sorted(service_date(n) for n in notes)
    count = len(notes)
    if count == 1:
        text = f"1 signed note is on record, dated {dates[0]}."
    else:
        text = f"{count} signed notes are on record, from {dates[0]} to {dates[-1]}."
    out = [Fact("history:sessions", text)]
    if client is not None and client.diagnoses:
        out.append(
            Fact(
                "client:diagnoses",
                "Diagnoses recorded: " + "; ".join(client.diagnoses) + ".",
            )
        )
    return out


def theme_facts(counts: Sequence[ThemeCount], total_notes: int) -> list[Fact]:
    if total_notes == 1:
        where = "the only signed note"
        return [
            Fact(t.context_id, f"The theme of {t.label} appears in {where}.")
            for t in counts
        ]
    return [
        Fact(
            t.context_id,
            f"The theme of {t.label} appears in {t.note_count} of the "
            f"{total_notes} signed notes.",
        )
        for t in counts
    ]


def excerpts(notes: Sequence[Note], budget_chars: int) -> list[NoteExcerpt]:
    """The notes' sections as text, newest first, until the budget is spent."""
    out: list[NoteExcerpt] = []
    left = budget_chars
    for note in notes:
        text = "\n".join(
            f"{s.title or s.key}: {s.text.strip()}"
            for s in note.sections
            if s.text.strip()
        )
        if not text or left <= 0:
            continue
        text = text[:left]
        left -= len(text)
        out.append(NoteExcerpt(f"note:{note.note_id}", service_date(note), text))
    return out


def compute(
    notes: Sequence[Note],
    client: ClientProfile | None,
    measurements: Sequence[Measurement],
    days: Sequence[WearableDay],
    recent_days: int = 14,
    today: date | None = None,
    note_budget_chars: int = 6000,
) -> Facts:
    trends = wearables.trends(days, recent_days, today)
    # A theme in one note of several is not a pattern; with one note it is all there is.
    counts = recurring_themes(list(notes), min_notes=2 if len(notes) > 1 else 1)
    return Facts(
        scores=score_facts(measurements),
        wearables=wearable_facts(trends),
        history=history_facts(notes, client),
        themes=theme_facts(counts, len(notes)),
        notes=excerpts(notes, note_budget_chars),
        summaries=measures.summarise(measurements),
        trends=trends,
        theme_counts=counts,
    )
