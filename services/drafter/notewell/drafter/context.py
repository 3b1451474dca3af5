"""What a draft may draw on besides its transcript: earlier signed notes, scores and
wearable trends, each a context item with an id the note cites as evidence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from notewell.clinical import measures, wearables
from notewell.measures.v1.measures_pb2 import (
    Measurement,
    MeasureSummary,
    WearableDay,
    WearableTrend,
)
from notewell.notes.v1.note_pb2 import Note

# Wearable days this close before the session make its recent window; earlier ones
# its baseline.
WEARABLE_WINDOW_DAYS = 14
# An earlier note reaches the prompt this short: enough to connect sessions, little
# enough that three of them cost less than a tenth of the prompt.
NOTE_CHARS = 500


@dataclass(frozen=True)
class ContextItem:
    # "note:<note id>", "measure:PHQ-9", "wearable:sleep_minutes".
    id: str
    text: str


@dataclass(frozen=True)
class DraftContext:
    """Context items in the order the prompt shows them, with the computed summaries
    the note records beside its sections."""

    items: tuple[ContextItem, ...] = ()
    measures: tuple[MeasureSummary, ...] = ()
    wearables: tuple[WearableTrend, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)


NO_CONTEXT = DraftContext()


def build_context(
    notes: Iterable[Note] = (),
    measurements: Sequence[Measurement] = (),
    wearable_days: Sequence[WearableDay] = (),
    session_day: date | None = None,
) -> DraftContext:
    """Scores and wearable trends summarised in code, then earlier notes, as context
    items. Measurements after ``session_day`` are left out, so a note only speaks of
    what was known by its session."""
    if session_day is not None:
        measurements = [
            m for m in measurements if measures.day(m.administered_at) <= str(session_day)
        ]
        wearable_days = [d for d in wearable_days if d.date <= session_day.isoformat()]
    summaries = measures.summarise(measurements)
    trends = wearables.trends(wearable_days, WEARABLE_WINDOW_DAYS, today=session_day)
    items = [ContextItem(s.context_id, measures.describe_measure(s)) for s in summaries]
    items += [ContextItem(t.context_id, wearables.describe_trend(t)) for t in trends]
    items += earlier_note_items(notes)
    return DraftContext(tuple(items), tuple(summaries), tuple(trends))


def earlier_note_items(notes: Iterable[Note]) -> list[ContextItem]:
    """One short item per earlier note, in the order given (newest first)."""
    items = []
    for note in notes:
        if not note.note_id:
            continue
        body = " ".join(
            f"{section.title or section.key}: {' '.join(section.text.split())}"
            for section in note.sections
            if section.text.strip()
        )
        if len(body) > NOTE_CHARS:
            body = body[:NOTE_CHARS].rsplit(" ", 1)[0] + " …"
        items.append(ContextItem(f"note:{note.note_id}", f"{_dated(note)}{body}"))
    return items


def _dated(note: Note) -> str:
    stamp = note.date_of_service
    if stamp.seconds == 0 and stamp.nanos == 0:
        return "Earlier note. "
    return f"Note of {stamp.ToDatetime().date().isoformat()}. "
