"""Session transcripts to feed the pipeline: the project's own sample and AnnoMI."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "demo_session.json"
DATASETS = ROOT.parent / "shared" / "datasets"
ANNOMI_CSV = DATASETS / "annomi" / "AnnoMI-simple.csv"


@dataclass(frozen=True)
class SessionInput:
    """A partner transcript ({"turns": [...]}) and how long the session ran."""

    name: str
    transcript: dict[str, list[dict[str, object]]]
    duration_seconds: float

    @property
    def word_count(self) -> int:
        return sum(len(str(t["text"]).split()) for t in self.transcript["turns"])


def load_sample() -> SessionInput:
    data = json.loads(SAMPLE.read_text())
    last_end = max(float(t["end"]) for t in data["turns"])
    return SessionInput("sample", data, last_end)


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    while len(parts) < 3:
        parts.insert(0, 0.0)
    hours, minutes, seconds = parts
    return hours * 3600 + minutes * 60 + seconds


def annomi_ids() -> list[int]:
    with ANNOMI_CSV.open(newline="") as handle:
        return sorted({int(row["transcript_id"]) for row in csv.DictReader(handle)})


def load_annomi(transcript_id: int) -> SessionInput:
    """One AnnoMI session as a partner transcript. Each turn ends where the next begins
    (AnnoMI gives start times only); the last turn gets time for its words."""
    with ANNOMI_CSV.open(newline="") as handle:
        rows = [
            r for r in csv.DictReader(handle) if int(r["transcript_id"]) == transcript_id
        ]
    if not rows:
        raise KeyError(f"no AnnoMI session with transcript_id {transcript_id}")
    rows.sort(key=lambda r: int(r["utterance_id"]))
    starts = [_seconds(r["timestamp"]) for r in rows]
    origin = starts[0]
    turns: list[dict[str, object]] = []
    for index, row in enumerate(rows):
        start = starts[index] - origin
        words = len(row["utterance_text"].split())
        if index + 1 < len(rows):
            end = max(start, starts[index + 1] - origin)
        else:
            end = start + max(1.0, words / 2.5)
        speaker = "clinician" if row["interlocutor"] == "therapist" else "client"
        turns.append(
            {
                "speaker": speaker,
                "start": start,
                "end": end,
                "text": row["utterance_text"],
            }
        )
    return SessionInput(f"annomi-{transcript_id}", {"turns": turns}, turns[-1]["end"])  # type: ignore[arg-type]
