"""The PDF itself: what a reader finds in it, page by page."""

from __future__ import annotations

import subprocess
from zoneinfo import ZoneInfo

import pytest

from notewell.exporter.rendering import NoteRenderer

DRAFT_MARK = "DRAFT – not part of the record"


@pytest.fixture(scope="module")
def renderer() -> NoteRenderer:
    return NoteRenderer(ZoneInfo("America/New_York"))


def _cjk_font_installed() -> bool:
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True
    )
    return bool(out.stdout.strip())


def test_signed_note_states_the_session_every_section_and_the_signature(
    renderer, make_note, pdf
):
    note = make_note(note_id="note-77", clinician_id="clin-9", client_id="client-314")

    document = renderer.render(note)

    text = pdf.flat_text(document)
    assert document.startswith(b"%PDF-")
    for expected in (
        "Clinician ID clin-9",
        "Client ID client-314",
        # 15:02-15:55 UTC is 10:02-10:55 in New York in March (EST).
        "Date of service 2025-03-04",
        "Start time 10:02",
        "Stop time 10:55",
        "Time zone America/New_York",
        "Duration 53 minutes",
        "Modality Telehealth",
        "CPT code (suggested) 90837 Suggestion from face-to-face time",
        "Electronically signed by Dr. Orsolya Vándorfi",
        "Signed at 2025-03-04 12:30 (America/New_York)",
        "Page 1 of 1",
    ):
        assert expected in text
    for section in note.sections:
        assert f"{section.title} {section.text}" in text
    assert "DRAFT" not in text
    assert "Extractive fallback" not in text


def test_unsigned_note_is_marked_as_draft_and_carries_no_signature(
    renderer, make_note, pdf
):
    document = renderer.render(make_note(signed=False))

    text = pdf.flat_text(document)
    assert DRAFT_MARK in text
    assert "Not signed." in text
    assert "Electronically signed" not in text


def test_extractive_fallback_is_called_out(renderer, make_note, pdf):
    document = renderer.render(make_note(extractive_fallback=True))

    assert "Extractive fallback: assembled from the transcript without the language" in (
        pdf.flat_text(document)
    )


def test_long_note_numbers_its_pages_and_names_the_client_on_each(
    renderer, make_note, pdf
):
    paragraph = "The client described the week in detail, day by day. " * 40
    sections = [(f"Section {n}", "\n\n".join([paragraph] * 3)) for n in range(1, 5)]
    document = renderer.render(make_note(client_id="client-long", sections=sections))

    pages = pdf.pages(document)
    assert pages >= 5
    assert f"Page 5 of {pages}" in pdf.flat_text(document)
    for page in range(1, pages + 1):
        text = pdf.flat_text(document, page)
        assert "Client ID: client-long" in text
        assert f"Page {page} of {pages}" in text
    assert all(f"Section {n}" in pdf.flat_text(document) for n in range(1, 5))
    assert "Electronically signed by" in pdf.flat_text(document, pages)


def test_accented_and_cyrillic_names_are_drawn_with_dejavu(renderer, make_note, pdf):
    note = make_note(
        title="Progress note for Zoë Ñúñez",
        signer="Дмитрий Ковалёв",
        sections=[("Subjective", "Zoë Ñúñez brought her brother Дмитрий along.")],
    )

    document = renderer.render(note)

    text = pdf.flat_text(document)
    assert "Progress note for Zoë Ñúñez" in text
    assert "Zoë Ñúñez brought her brother Дмитрий along." in text
    assert "Electronically signed by Дмитрий Ковалёв" in text
    # Only DejaVu is embedded: no glyph fell back to some other font on this machine.
    fonts = pdf.fonts(document)
    assert fonts
    assert all(name.startswith("DejaVu") for name in fonts)


def test_cjk_names_keep_their_text(renderer, make_note, pdf):
    note = make_note(sections=[("Subjective", "Seen with her cousin 李小龍 today.")])

    document = renderer.render(note)

    assert "Seen with her cousin 李小龍 today." in pdf.flat_text(document)


@pytest.mark.skipif(
    not _cjk_font_installed(),
    reason="DejaVu has no CJK glyphs and no CJK font is installed "
    "(Debian: fonts-noto-cjk); such names print as empty boxes",
)
def test_cjk_names_are_drawn_with_a_cjk_font(renderer, make_note, pdf):
    note = make_note(sections=[("Subjective", "Seen with her cousin 李小龍 today.")])

    fonts = pdf.fonts(renderer.render(note))

    assert any(not name.startswith("DejaVu") for name in fonts)


def test_markup_in_a_note_is_printed_as_text(renderer, make_note, pdf):
    hostile = '<b>bold</b> <img src="file:///etc/hostname"> & <script>x()</script>'
    document = renderer.render(make_note(sections=[("Subjective", hostile)]))

    assert hostile in pdf.flat_text(document)
