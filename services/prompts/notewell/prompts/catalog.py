"""The "/" menu as data: generative prompts from ``data/prompts.json`` and blank
templates from ``data/formats.json`` plus the clinician's own templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from notewell.notes.v1.note_pb2 import NoteTemplate
from notewell.prompts.v1.prompts_pb2 import PromptGroup, PromptItem

GROUPS = {
    "ideas": PromptGroup.PROMPT_GROUP_IDEAS,
    "patterns": PromptGroup.PROMPT_GROUP_PATTERNS,
    "summaries": PromptGroup.PROMPT_GROUP_SUMMARIES,
}
# What a prompt can rest on; each names a kind of fact computed in code.
SOURCES = {"notes", "scores", "wearables", "themes", "history"}
LAYOUTS = {"paragraph", "list"}
TEMPLATE_PREFIX = "template:"
FORMAT_PREFIX = TEMPLATE_PREFIX + "format:"
CUSTOM_PREFIX = TEMPLATE_PREFIX + "custom:"


@dataclass(frozen=True)
class Prompt:
    """One generative prompt of the menu."""

    prompt_id: str
    group: str
    title: str
    description: str
    uses: frozenset[str]
    # The answer is "no data" unless at least one of these has something.
    requires_any: frozenset[str]
    no_data: str
    # How to lay the text out when nothing around the cursor says.
    layout: str
    instruction: str

    def item(self) -> PromptItem:
        return PromptItem(
            prompt_id=self.prompt_id,
            group=GROUPS[self.group],
            title=self.title,
            description=self.description,
        )


@dataclass(frozen=True)
class Heading:
    key: str
    title: str
    instruction: str


@dataclass(frozen=True)
class Format:
    """A built-in note format and its headings."""

    code: str
    name: str
    headings: tuple[Heading, ...]


def _read(name: str) -> Any:
    text = (Path(__file__).parent / "data" / name).read_text("utf-8")
    return json.loads(text)


@cache
def prompts() -> dict[str, Prompt]:
    """Every generative prompt by id, in menu order; checked as it is read."""
    out: dict[str, Prompt] = {}
    for raw in _read("prompts.json")["prompts"]:
        prompt = Prompt(
            prompt_id=raw["id"],
            group=raw["group"],
            title=raw["title"],
            description=raw["description"],
            uses=frozenset(raw["uses"]),
            requires_any=frozenset(raw["requires_any"]),
            no_data=raw["no_data"],
            layout=raw["layout"],
            instruction=raw["instruction"],
        )
        if prompt.group not in GROUPS or prompt.layout not in LAYOUTS:
            raise ValueError(f"prompt {prompt.prompt_id}: unknown group or layout")
        if not prompt.uses <= SOURCES or not prompt.requires_any <= prompt.uses:
            raise ValueError(f"prompt {prompt.prompt_id}: unknown source")
        if prompt.prompt_id in out:
            raise ValueError(f"prompt {prompt.prompt_id} is listed twice")
        out[prompt.prompt_id] = prompt
    return out


@cache
def formats() -> dict[str, Format]:
    """The built-in note formats by code ("SOAP", "DAP", ...)."""
    return {
        raw["code"]: Format(
            code=raw["code"],
            name=raw["name"],
            headings=tuple(Heading(*h) for h in raw["headings"]),
        )
        for raw in _read("formats.json")["formats"]
    }


def format_headings(code: str) -> tuple[Heading, ...]:
    """The headings of a built-in format; empty for an unknown code."""
    fmt = formats().get(code.upper())
    return fmt.headings if fmt else ()


def template_items(own: list[NoteTemplate]) -> list[PromptItem]:
    """Blank templates: every built-in format, then the clinician's own templates."""
    group = PromptGroup.PROMPT_GROUP_TEMPLATES
    items = [
        PromptItem(
            prompt_id=FORMAT_PREFIX + fmt.code.lower(),
            group=group,
            title=fmt.name,
            description="Blank headings: " + ", ".join(h.title for h in fmt.headings),
        )
        for fmt in formats().values()
    ]
    for template in own:
        if template.built_in:
            continue
        titles = ", ".join(h.title for h in template.headings)
        items.append(
            PromptItem(
                prompt_id=CUSTOM_PREFIX + template.template_id,
                group=group,
                title=template.name,
                description="Your template: " + titles,
            )
        )
    return items


def blank_text(headings: list[Heading] | tuple[Heading, ...]) -> str:
    """The headings as text to insert: each title on its own line, a blank line under
    it for the clinician to write in."""
    return "".join(f"{h.title}:\n\n" for h in headings)


def template_headings(template: NoteTemplate) -> list[Heading]:
    return [Heading(h.key, h.title, h.instruction) for h in template.headings]
