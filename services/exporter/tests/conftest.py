"""Fixtures for the exporter's tests: notes to render, PDF text, settings and the app."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SessionFacts
from notewell.exporter.app import ExporterApp
from notewell.exporter.settings import Settings
from notewell.notes.v1.note_pb2 import (
    Note,
    NoteSection,
    NoteStatus,
    NoteType,
    RecordHeader,
    Signature,
)
from notewell.platform.logs import JsonFormatter

# Distinctive protected text: none of it may ever reach a log line.
SUBJECTIVE = "Client reports the marmalade dream returned twice this week."
OBJECTIVE = "Affect bright, speech pressured when describing the lighthouse job."
ASSESSMENT = "Sleep disruption persists; the worry cycle is narrower than in March."
PLAN = "Continue weekly CBT-I; client will keep the quince sleep diary."
SIGNER = "Dr. Orsolya Vándorfi"


def timestamp(value: str) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value).astimezone(UTC))
    return ts


def build_note(
    note_id: str = "note-1",
    clinician_id: str = "clin-1",
    client_id: str = "client-1",
    session_id: str = "sess-1",
    version: int = 3,
    signed: bool = True,
    sections: list[tuple[str, str]] | None = None,
    title: str = "Progress note",
    signer: str = SIGNER,
    extractive_fallback: bool = False,
    header: RecordHeader | None = None,
    note_type: NoteType = NoteType.NOTE_TYPE_PROGRESS,
) -> Note:
    chosen = sections or [
        ("Subjective", SUBJECTIVE),
        ("Objective", OBJECTIVE),
        ("Assessment", ASSESSMENT),
        ("Plan", PLAN),
    ]
    note = Note(
        note_id=note_id,
        session_id=session_id,
        clinician_id=clinician_id,
        client_id=client_id,
        format="SOAP",
        status=NoteStatus.NOTE_STATUS_SIGNED if signed else NoteStatus.NOTE_STATUS_DRAFT,
        title=title,
        version=version,
        extractive_fallback=extractive_fallback,
        note_type=note_type,
        header=header,
        sections=[
            NoteSection(key=t.lower().replace(" ", "_"), title=t, text=text)
            for t, text in chosen
        ],
        session=SessionFacts(
            actual_start=timestamp("2025-03-04T15:02:00+00:00"),
            actual_end=timestamp("2025-03-04T15:55:00+00:00"),
            duration_minutes=53,
            modality=Modality.MODALITY_TELEHEALTH,
            suggested_cpt_code="90837",
        ),
    )
    if signed:
        note.signature.CopyFrom(
            Signature(signed_by=signer, signed_at=timestamp("2025-03-04T17:30:00+00:00"))
        )
    return note


@pytest.fixture
def make_note() -> Callable[..., Note]:
    """Builds a SOAP note (signed by default) with distinctive section texts."""
    return build_note


class PdfTools:
    """poppler-utils on PDF bytes, the way a reader of the exported file sees it."""

    def __init__(self, workdir: Path) -> None:
        self._workdir = workdir

    def _file(self, pdf: bytes) -> str:
        path = self._workdir / "inspected.pdf"
        path.write_bytes(pdf)
        return str(path)

    def text(self, pdf: bytes, page: int | None = None) -> str:
        """pdftotext output, of one page when ``page`` is given."""
        pages = ["-f", str(page), "-l", str(page)] if page else []
        out = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", *pages, self._file(pdf), "-"],
            capture_output=True,
            check=True,
        )
        return out.stdout.decode("utf-8")

    def flat_text(self, pdf: bytes, page: int | None = None) -> str:
        """The text with each run of whitespace as one space: line wrapping aside."""
        return " ".join(self.text(pdf, page).split())

    def pages(self, pdf: bytes) -> int:
        info = subprocess.run(
            ["pdfinfo", self._file(pdf)], capture_output=True, check=True, text=True
        ).stdout
        line = next(x for x in info.splitlines() if x.startswith("Pages:"))
        return int(line.split()[1])

    def fonts(self, pdf: bytes) -> list[str]:
        """Embedded font names, without their subset prefix."""
        out = subprocess.run(
            ["pdffonts", self._file(pdf)], capture_output=True, check=True, text=True
        ).stdout
        names = [line.split()[0] for line in out.splitlines()[2:] if line.strip()]
        return [name.split("+", 1)[-1] for name in names]


@pytest.fixture
def pdf(tmp_path: Path) -> PdfTools:
    return PdfTools(tmp_path)


@pytest.fixture
def phi() -> tuple[str, ...]:
    """Distinctive protected phrases of the notes ``make_note`` builds."""
    return (SUBJECTIVE, OBJECTIVE, ASSESSMENT, PLAN, SIGNER, "marmalade", "quince")


@pytest.fixture
def settings(service_env: dict[str, str], unique: str) -> Settings:
    # A consumer group of its own, so no test waits for another test's group to settle.
    return Settings(
        **service_env,
        EXPORT_BUCKET=f"exports-{unique}",
        KAFKA_GROUP_ID=f"{service_env['KAFKA_TOPIC_PREFIX']}exporter",
    )


@pytest.fixture
async def exporter(settings: Settings) -> AsyncIterator[ExporterApp]:
    app = ExporterApp(settings)
    try:
        await app.start()
        yield app
    finally:
        await app.stop()


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """Everything logged so far at INFO and above, as the JSON lines production writes
    (message and extra fields alike)."""
    caplog.set_level(logging.INFO)
    formatter = JsonFormatter()
    return lambda: "\n".join(formatter.format(r) for r in caplog.records)
