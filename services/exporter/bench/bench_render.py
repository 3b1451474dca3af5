"""Time the exporter takes to lay out a note as PDF, for a one-page and a five-page note.

Renders in this process with the exporter's own ``NoteRenderer`` (jinja2 + WeasyPrint),
one render at a time after a few warm-up renders, and prints p50/p95 per note. No
servers are needed: storage and gRPC add the same small cost to every export, the
layout is what grows with the note.

    python services/exporter/bench/bench_render.py [--renders 25] [--warmup 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SessionFacts
from notewell.exporter.rendering import NoteRenderer
from notewell.measures.v1.measures_pb2 import MeasureSummary
from notewell.notes.v1.note_pb2 import (
    Note,
    NoteSection,
    NoteStatus,
    RecordHeader,
    Signature,
)

SENTENCE = "The client described the week in detail, day by day. "


def _at(value: str) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value).astimezone(UTC))
    return ts


def _note(sections: list[tuple[str, str]], client_name: str = "Zoë Łukasiewicz") -> Note:
    note = Note(
        note_id="note-bench",
        session_id="sess-bench",
        clinician_id="clin-bench",
        client_id="client-bench",
        format="SOAP",
        status=NoteStatus.NOTE_STATUS_SIGNED,
        title="Progress note",
        version=2,
        sections=[
            NoteSection(key=title.lower(), title=title, text=text)
            for title, text in sections
        ],
        session=SessionFacts(
            actual_start=_at("2025-03-04T15:02:00+00:00"),
            actual_end=_at("2025-03-04T15:55:00+00:00"),
            duration_minutes=53,
            modality=Modality.MODALITY_TELEHEALTH,
            suggested_cpt_code="90837",
        ),
        header=RecordHeader(
            practice_name="Harbour Street Counselling",
            clinician_name="Nguyễn Thị Minh",
            clinician_credentials="LCSW",
            client_name=client_name,
            client_date_of_birth="1988-07-14",
            client_identifier="MRN-004217",
            diagnoses=["F51.01 Primary insomnia"],
        ),
        signature=Signature(
            signed_by="clin-bench",
            signer_name="Nguyễn Thị Minh",
            signer_credentials="LCSW",
            signed_at=_at("2025-03-04T17:30:00+00:00"),
        ),
        measures=[
            MeasureSummary(
                instrument="PHQ-9",
                latest_score=14,
                max_score=27,
                severity="moderate",
                latest_at=_at("2025-03-04T14:00:00+00:00"),
                has_previous=True,
                change_since_previous=-3,
                has_baseline=True,
                change_since_baseline=-6,
                baseline_at=_at("2025-01-10T14:00:00+00:00"),
                reliable_change="improved",
                count=4,
            )
        ],
    )
    return note


def one_page_note() -> Note:
    return _note([(title, SENTENCE * 4) for title in ("S", "O", "A", "P")])


def five_page_note() -> Note:
    paragraph = SENTENCE * 34
    return _note([(f"Section {n}", f"{paragraph}\n\n{paragraph}") for n in range(1, 5)])


def one_page_cjk_note() -> Note:
    note = one_page_note()
    note.header.client_name = "李小龍"
    return note


def _pages(pdf: bytes) -> str:
    if shutil.which("pdfinfo") is None:
        return "?"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as file:
        file.write(pdf)
        file.flush()
        info = subprocess.run(
            ["pdfinfo", file.name], capture_output=True, text=True, check=True
        ).stdout
    return next(
        line.split()[1] for line in info.splitlines() if line.startswith("Pages:")
    )


def _measure(
    renderer: NoteRenderer, note: Note, renders: int, warmup: int
) -> tuple[str, list[float]]:
    for _ in range(warmup):
        pdf = renderer.render(note)
    took = []
    for _ in range(renders):
        started = time.perf_counter()
        pdf = renderer.render(note)
        took.append((time.perf_counter() - started) * 1000)
    return _pages(pdf), took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=25)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.renders < 2 or args.warmup < 1:
        parser.error("need at least 2 renders and 1 warm-up render")
    # WeasyPrint warns once per font about its subsetting backend; the table is the
    # output here.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)

    renderer = NoteRenderer(ZoneInfo("America/New_York"))
    cases: list[tuple[str, Callable[[], Note]]] = [
        ("one page", one_page_note),
        ("five pages", five_page_note),
        ("one page, CJK name", one_page_cjk_note),
    ]
    print(
        f"PDF render time, {args.renders} renders each after {args.warmup} warm-up "
        f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f})"
    )
    print(f"{'note':<20} {'pages':>5} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for name, build in cases:
        pages, took = _measure(renderer, build(), args.renders, args.warmup)
        p95 = statistics.quantiles(took, n=20, method="inclusive")[-1]
        print(
            f"{name:<20} {pages:>5} {statistics.median(took):>8.0f} {p95:>8.0f} "
            f"{max(took):>8.0f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
