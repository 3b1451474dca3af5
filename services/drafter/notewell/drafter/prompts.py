"""The chat messages sent to the model, rendered from the Jinja templates beside this
module."""

from __future__ import annotations

from functools import cache

from jinja2 import Environment, PackageLoader, StrictUndefined

from notewell.drafter.context import ContextItem
from notewell.drafter.formats import (
    MAX_IDS_PER_SECTION,
    NOT_ADDRESSED,
    NoteFormat,
    SectionSize,
)
from notewell.drafter.model import Messages
from notewell.drafter.voice import Voice


@cache
def _environment() -> Environment:
    # Prompts are plain text, never HTML: nothing to escape.
    return Environment(
        loader=PackageLoader("notewell.drafter", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )


def _messages(template: str, **values: object) -> Messages:
    env = _environment()
    return [
        {"role": "system", "content": env.get_template("system.j2").render()},
        {"role": "user", "content": env.get_template(template).render(**values)},
    ]


def note_messages(
    material: list[str],
    kind: str,
    session_facts: str,
    note_format: NoteFormat,
    voice: Voice,
    size: SectionSize,
    context_items: tuple[ContextItem, ...] = (),
) -> Messages:
    """Asks for the note under the format's headings, in the clinician's voice and
    ``size``, from material of ``kind`` (transcript, excerpts or points) and any
    context items."""
    return _messages(
        "note.j2",
        material=material,
        kind=kind,
        session_facts=session_facts,
        format_name=note_format.name if note_format.name != "CUSTOM" else "",
        headings=note_format.headings,
        voice=voice,
        size=size,
        context_items=context_items,
        not_addressed=NOT_ADDRESSED,
        max_ids=MAX_IDS_PER_SECTION,
    )


def condense_messages(
    material: list[str],
    part: int,
    parts: int,
    from_points: bool,
    min_points: int,
    max_points: int,
) -> Messages:
    """Asks for short evidence-citing points from one chunk of transcript or points."""
    return _messages(
        "condense.j2",
        material=material,
        part=part,
        parts=parts,
        from_points=from_points,
        min_points=min_points,
        max_points=max_points,
    )
