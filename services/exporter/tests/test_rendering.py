"""The PDF itself: what a reader finds in it, page by page."""

from __future__ import annotations

import io
import subprocess
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from PIL import Image

from notewell.exporter.rendering import NoteRenderer, css_string
from notewell.measures.v1.measures_pb2 import MeasureSummary
from notewell.notes.v1.note_pb2 import Addendum, RecordHeader, Signature

DRAFT_MARK = "DRAFT – not part of the record"
PARAGRAPH = "The client described the week in detail, day by day. " * 40


@pytest.fixture(scope="module")
def renderer() -> NoteRenderer:
    return NoteRenderer(ZoneInfo("America/New_York"))


def _at(value: str) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(datetime.fromisoformat(value).astimezone(UTC))
    return ts


def _cjk_font_installed() -> bool:
    out = subprocess.run(
        ["fc-list", ":lang=zh", "family"], capture_output=True, text=True
    )
    return bool(out.stdout.strip())


def _header(**fields: object) -> RecordHeader:
    values: dict[str, object] = {
        "practice_name": "Harbour Street Counselling",
        "clinician_name": "Dana Reyes",
        "clinician_credentials": "LCSW",
        "client_name": "Marta Quill",
        "client_date_of_birth": "1988-07-14",
        "client_identifier": "MRN-004217",
        "diagnoses": ["F51.01 Primary insomnia"],
    }
    values.update(fields)
    return RecordHeader(**values)  # type: ignore[arg-type]


def test_signed_note_states_the_record_header_every_section_and_the_signature(
    renderer, make_note, pdf
):
    note = make_note(
        note_id="note-77", clinician_id="clin-9", client_id="client-314", header=_header()
    )
    note.signature.signer_name = "Dana Reyes"
    note.signature.signer_credentials = "LCSW"

    document = renderer.render(note)

    text = pdf.flat_text(document)
    assert document.startswith(b"%PDF-")
    for expected in (
        "Harbour Street Counselling Progress note",
        "Clinician Dana Reyes, LCSW",
        "Client Marta Quill",
        "Date of birth 1988-07-14",
        "Client ID MRN-004217",
        "Diagnosis F51.01 Primary insomnia",
        # 15:02-15:55 UTC is 10:02-10:55 in New York in March (EST).
        "Date of service 2025-03-04",
        "Start time 10:02",
        "Stop time 10:55",
        "Time zone America/New_York",
        "Duration 53 minutes",
        "Modality Telehealth",
        # Signing confirms the code: it is no longer printed as a suggestion.
        "CPT code 90837",
        "Electronically signed by Dana Reyes, LCSW",
        "Signed at 2025-03-04 12:30 (America/New_York)",
        "Marta Quill · Client ID MRN-004217",
        "Note note-77, version 3",
        "Page 1 of 1",
    ):
        assert expected in text
    for section in note.sections:
        assert f"{section.title} {section.text}" in text
    assert "suggested" not in text.lower()
    assert "client-314" not in text
    assert "DRAFT" not in text
    assert "Extractive fallback" not in text
    assert "Scores" not in text
    assert "Addend" not in text


def test_sections_print_in_the_order_of_the_notes_format(renderer, make_note, pdf):
    titles = ["Data", "Assessment", "Plan", "Behavior", "Intervention"]
    note = make_note(sections=[(t, f"Text under {t.lower()}.") for t in titles])

    text = pdf.flat_text(renderer.render(note))

    places = [text.index(f"{t} Text under {t.lower()}.") for t in titles]
    assert places == sorted(places)


def test_an_empty_header_falls_back_to_the_ids(renderer, make_note, pdf):
    note = make_note(clinician_id="clin-9", client_id="client-314", signer="")

    text = pdf.flat_text(renderer.render(note))

    # No practice line, and no rows for a name, birth date or diagnosis.
    assert text.startswith("Client ID client-314 Signed note Progress note Clinician")
    # Rows are read across both columns: nothing between clinician and client id.
    assert "Clinician clin-9 Date of service 2025-03-04 Client ID client-314" in text
    assert "Date of birth" not in text
    assert "Diagnos" not in text
    assert "Electronically signed by clin-9" in text


def test_several_diagnoses_are_listed(renderer, make_note, pdf):
    header = _header(diagnoses=["F41.1 Generalized anxiety disorder", "F51.01 Insomnia"])

    text = pdf.flat_text(renderer.render(make_note(header=header)))

    assert "Diagnoses • F41.1 Generalized anxiety disorder • F51.01 Insomnia" in text


def test_unsigned_note_is_marked_as_draft_with_a_suggested_code(renderer, make_note, pdf):
    document = renderer.render(make_note(signed=False, header=_header()))

    text = pdf.flat_text(document)
    assert text.count(DRAFT_MARK) == 3  # top of page, margin, signature block
    assert "Not signed." in text
    assert (
        "CPT code (suggested) 90837 Suggested from the session's length; confirm "
        "before billing."
    ) in text
    assert "Electronically signed" not in text
    assert "Signed note" not in text


def test_extractive_fallback_is_called_out(renderer, make_note, pdf):
    document = renderer.render(make_note(extractive_fallback=True))

    assert "Extractive fallback: assembled from the transcript without the language" in (
        pdf.flat_text(document)
    )


def test_scores_table_shows_each_measure_with_its_changes(renderer, make_note, pdf):
    note = make_note()
    note.measures.extend(
        [
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
                item_flags=["PHQ-9 item 9 (thoughts of self-harm) scored 1"],
            ),
            MeasureSummary(
                instrument="GAD-7",
                latest_score=12,
                max_score=21,
                severity="moderate",
                latest_at=_at("2025-03-03T14:00:00+00:00"),
                has_previous=True,
                change_since_previous=2,
                count=2,
            ),
        ]
    )

    text = pdf.flat_text(renderer.render(note))

    assert (
        "Scores Instrument Score Severity Date Since previous Since baseline "
        "Reliable change" in text
    )
    assert "14 / 27 moderate 2025-03-04 -3 -6 (since 2025-01-10) improved" in text
    assert "4 on record" in text
    # No baseline for GAD-7: neither a change since baseline nor a judgement.
    assert "12 / 21 moderate 2025-03-03 +2 - Not judged" in text
    assert "Items flagged for attention: • PHQ-9 item 9 (thoughts of self-harm)" in text
    assert text.index("Plan ") < text.index("Scores") < text.index("Electronically")


def test_addenda_follow_the_signature_in_order_each_with_its_signer(
    renderer, make_note, pdf
):
    note = make_note(clinician_id="clin-1", header=_header())
    note.addenda.extend(
        [
            Addendum(
                addendum_id="a1",
                author_id="clin-1",
                text="Client phoned: the sleep diary was lost.",
                signature=Signature(
                    signed_by="clin-1", signed_at=_at("2025-03-06T15:00:00+00:00")
                ),
            ),
            Addendum(
                addendum_id="a2",
                author_id="clin-5",
                text="Covering clinician reviewed the plan.",
                signature=Signature(
                    signed_by="clin-5",
                    signer_name="Sam Okafor",
                    signer_credentials="PsyD",
                    signed_at=_at("2025-03-08T16:45:00+00:00"),
                ),
            ),
        ]
    )

    text = pdf.flat_text(renderer.render(note))

    first = (
        "Addendum 1 Client phoned: the sleep diary was lost. Signed by Dana Reyes, "
        "LCSW at 2025-03-06 10:00 (America/New_York)"
    )
    second = (
        "Addendum 2 Covering clinician reviewed the plan. Signed by Sam Okafor, PsyD "
        "at 2025-03-08 11:45 (America/New_York)"
    )
    assert first in text
    assert second in text
    assert text.index("Electronically signed") < text.index(first) < text.index(second)


def test_five_page_note_numbers_its_pages_and_names_the_client_on_each(
    renderer, make_note, pdf
):
    # Four sections of two long paragraphs fill five A4 pages with DejaVu.
    paragraph = "The client described the week in detail, day by day. " * 34
    sections = [(f"Section {n}", f"{paragraph}\n\n{paragraph}") for n in range(1, 5)]
    note = make_note(
        client_id="client-long",
        sections=sections,
        header=_header(client_name="", client_identifier="MRN-5P"),
    )

    document = renderer.render(note)

    assert pdf.pages(document) == 5
    for page in range(1, 6):
        text = pdf.flat_text(document, page)
        assert text.startswith("Client ID MRN-5P Signed note")
        assert text.endswith(f"Note note-1, version 3 Page {page} of 5")
    whole = pdf.flat_text(document)
    places = [whole.index(f"Section {n} The client described") for n in range(1, 5)]
    assert places == sorted(places)
    assert "Electronically signed by Dana Reyes, LCSW" in pdf.flat_text(document, 5)


def test_non_latin_names_are_drawn_and_searchable(renderer, make_note, pdf):
    header = _header(
        clinician_name="Nguyễn Thị Minh",
        clinician_credentials="LMFT",
        client_name="Zoë Łukasiewicz",
    )
    note = make_note(
        header=header,
        title="Progress note for Zoë Łukasiewicz",
        signer="Дмитрий Ковалёв",
        sections=[
            ("Subjective", "Zoë came with her grandmother Αικατερίνη Παπαδοπούλου."),
            ("Objective", "Her brother Дмитрий Ковалёв waited outside."),
        ],
    )

    document = renderer.render(note)

    text = pdf.flat_text(document)
    for expected in (
        "Progress note for Zoë Łukasiewicz",
        "Clinician Nguyễn Thị Minh, LMFT",
        "Client Zoë Łukasiewicz",
        "Zoë Łukasiewicz · Client ID MRN-004217",
        "Zoë came with her grandmother Αικατερίνη Παπαδοπούλου.",
        "Her brother Дмитрий Ковалёв waited outside.",
        "Electronically signed by Nguyễn Thị Minh, LMFT",
    ):
        assert expected in text
    # Only DejaVu is embedded: no glyph fell back to some other font on this machine.
    fonts = pdf.fonts(document)
    assert fonts
    assert all(name.startswith("DejaVu") for name in fonts)


def test_cjk_names_keep_their_text(renderer, make_note, pdf):
    note = make_note(
        header=_header(client_name="李小龍"),
        sections=[("Subjective", "Seen with her cousin 李小龍 today.")],
    )

    text = pdf.flat_text(renderer.render(note))

    assert "Seen with her cousin 李小龍 today." in text
    assert "Client 李小龍" in text
    assert "李小龍 · Client ID MRN-004217" in text


@pytest.mark.skipif(
    not _cjk_font_installed(),
    reason="DejaVu has no CJK glyphs and no CJK font is installed "
    "(Debian: fonts-noto-cjk); such names print as empty boxes",
)
def test_cjk_names_are_drawn_with_a_cjk_font(renderer, make_note, pdf):
    note = make_note(sections=[("Subjective", "Seen with her cousin 李小龍 today.")])

    fonts = pdf.fonts(renderer.render(note))

    assert any(name.startswith("Noto-Serif-CJK") for name in fonts)


def test_markup_in_a_note_is_printed_as_text(renderer, make_note, pdf):
    hostile = '<b>bold</b> <img src="file:///etc/hostname"> & <script>x()</script>'
    document = renderer.render(make_note(sections=[("Subjective", hostile)]))

    assert hostile in pdf.flat_text(document)


def test_css_in_a_margin_value_is_printed_as_text(renderer, make_note, pdf):
    hostile = 'X"; } @page { @bottom-left { content: "pwned'
    note = make_note(header=_header(client_name="", client_identifier=hostile))

    document = renderer.render(note)

    assert pdf.flat_text(document, 1).startswith(f"Client ID {hostile}")
    assert "Note note-1, version 3" in pdf.flat_text(document)


def test_css_string_escapes_everything_but_letters_digits_and_spaces():
    assert css_string('Zoë "Q"; }') == '"Zo\\eb  \\22 Q\\22 \\3b  \\7d "'


def _ink(
    png: bytes, dpi: int, margins_mm: tuple[float, float, float, float]
) -> tuple[int, int]:
    """Dark pixels outside and inside the box that ``margins_mm`` (top, right, bottom,
    left) leaves at the page's edges."""
    gray = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    height, width = gray.shape
    top, right, bottom, left = (round(mm / 25.4 * dpi) for mm in margins_mm)
    dark = gray < 128
    inside = np.zeros_like(dark)
    inside[top : height - bottom, left : width - right] = True
    return int(np.count_nonzero(dark & ~inside)), int(np.count_nonzero(dark & inside))


def test_nothing_is_drawn_in_the_page_margins(renderer, make_note, pdf, tmp_path):
    unbroken = "x" * 400
    note = make_note(
        header=_header(
            diagnoses=["F41.1 " + "y" * 300], client_identifier="MRN-" + "9" * 80
        ),
        sections=[("Subjective", f"{unbroken} and then {PARAGRAPH}"), ("Plan", unbroken)],
    )
    note.measures.append(
        MeasureSummary(
            instrument="A-VERY-LONG-INSTRUMENT-CODE-WITHOUT-SPACES",
            latest_score=123456789,
            max_score=987654321,
            severity="z" * 60,
            reliable_change="no reliable change",
        )
    )
    document = renderer.render(note)
    dpi = 50
    rendered = tmp_path / "page"
    (tmp_path / "doc.pdf").write_bytes(document)

    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", str(tmp_path / "doc.pdf"), str(rendered)],
        check=True,
    )

    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == pdf.pages(document) >= 2
    for image in images:
        # Body text keeps to the 18 mm side margins; the running head and the page
        # number sit in the top and bottom margins, but well clear of the edges.
        outside, inside = _ink(image.read_bytes(), dpi, (6, 17, 6, 17))
        assert outside == 0
        assert inside > 1000
