"""Rendering a note as a PDF: a jinja2 HTML template laid out by WeasyPrint.

Rendering is CPU-bound and blocking; callers on the event loop run it in a thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from zoneinfo import ZoneInfo

import weasyprint
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup
from weasyprint.urls import URLFetcher

from notewell.exporter.document import NoteDocument, note_document
from notewell.notes.v1.note_pb2 import Note

_TEMPLATES = Path(__file__).resolve().parent / "templates"

# The document needs nothing from outside; refusing every URL keeps a note's text
# from ever making the renderer read a file or call a server.
_NOTHING = URLFetcher(allowed_protocols=())


def css_string(value: object) -> Markup:
    """``value`` as a quoted CSS string whose only characters besides ASCII letters,
    digits and spaces are hex escapes, so no text can close the string or the rule."""
    escaped = "".join(
        c if (c.isascii() and c.isalnum()) or c == " " else f"\\{ord(c):x} "
        for c in str(value)
    )
    return Markup(f'"{escaped}"')


class NoteRenderer:
    """Turns notes into PDF bytes. Safe to call from several threads."""

    def __init__(self, zone: ZoneInfo) -> None:
        self._zone = zone
        environment = Environment(
            loader=FileSystemLoader(_TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
        )
        environment.filters["css_string"] = css_string
        self._template = environment.get_template("note.html.j2")
        # Pango and fontconfig state is shared by every WeasyPrint layout in the
        # process and is not documented as thread-safe, so layouts take turns.
        self._layout = threading.Lock()

    def html(self, document: NoteDocument) -> str:
        return self._template.render(doc=document)

    def render(self, note: Note) -> bytes:
        page = self.html(note_document(note, self._zone))
        with self._layout:
            pdf: bytes = weasyprint.HTML(string=page, url_fetcher=_NOTHING).write_pdf()
        return pdf
