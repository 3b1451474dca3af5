"""Running one generative prompt: the no-data answer, the model's answer streamed
sentence by sentence with each sentence checked before it is sent, and the answer
assembled in code from the facts when the model is unavailable."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from notewell.notes.v1.note_pb2 import Evidence, Statement
from notewell.platform.logs import get_logger
from notewell.prompts.catalog import Prompt
from notewell.prompts.facts import Fact, Facts
from notewell.prompts.model import LanguageModel, ModelUnavailable
from notewell.prompts.sentences import SentenceBuffer
from notewell.prompts.style import Style
from notewell.prompts.v1.prompts_pb2 import PromptResult, RunPromptResponse

log = get_logger(__name__)

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    undefined=StrictUndefined,
    autoescape=False,
    keep_trailing_newline=True,
    trim_blocks=True,
)


@dataclass(frozen=True)
class Checked:
    """One sentence after the grounding checks: what is left of it ("" when it was
    removed as unsupported) as statements with evidence, and what was taken out."""

    text: str
    statements: tuple[Statement, ...] = ()
    removed_quotes: int = 0
    removed_statements: int = 0

    @classmethod
    def computed(cls, text: str, context_ids: tuple[str, ...] = ()) -> Checked:
        """A sentence written in code from the record, which needs no check."""
        evidence = Evidence(context_ids=list(context_ids))
        return cls(text, (Statement(text=text, evidence=evidence),))


Check = Callable[[str], Checked]


@dataclass(frozen=True)
class Placement:
    """Where the text goes: the note's format and section, and the note so far."""

    format_name: str
    section_title: str
    section_purpose: str
    current_text: str


@dataclass
class _Answer:
    style: Style
    pieces: list[str] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    removed_quotes: int = 0
    removed_statements: int = 0

    def add(self, checked: Checked) -> str | None:
        """The piece to send for a checked sentence, or None when it was removed."""
        self.removed_quotes += checked.removed_quotes
        self.removed_statements += checked.removed_statements
        if not checked.text:
            return None
        if self.style.layout == "list":
            joint = self.style.lead if not self.pieces else "\n"
            piece = f"{joint}- {checked.text}"
        else:
            joint = self.style.lead if not self.pieces else " "
            piece = joint + checked.text
        self.pieces.append(piece)
        self.statements.extend(checked.statements)
        return piece

    def result(self, no_data: bool = False, fallback: bool = False) -> PromptResult:
        return PromptResult(
            text="".join(self.pieces),
            statements=self.statements,
            no_data=no_data,
            removed_quotes=self.removed_quotes,
            removed_statements=self.removed_statements,
            extractive_fallback=fallback,
        )


def messages_for(
    prompt: Prompt, facts: Facts, style: Style, placement: Placement
) -> list[dict[str, str]]:
    system = _TEMPLATES.get_template("system.j2").render(style=style)
    user = _TEMPLATES.get_template("prompt.j2").render(
        prompt=prompt,
        facts=facts.of(prompt.uses),
        excerpts=facts.notes if "notes" in prompt.uses else [],
        current=placement.current_text.strip(),
        format_name=placement.format_name,
        section_title=placement.section_title,
        section_purpose=placement.section_purpose,
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def fallback_facts(prompt: Prompt, facts: Facts) -> list[Fact]:
    """What a code-assembled answer says: the prompt's own facts, or the history and
    themes for a prompt that rests on note text alone."""
    return facts.of(prompt.uses) or facts.of(frozenset({"history", "themes"}))


async def run_prompt(
    prompt: Prompt,
    facts: Facts,
    style: Style,
    placement: Placement,
    model: LanguageModel,
    check: Check,
) -> AsyncIterator[RunPromptResponse]:
    """The text pieces, then the result. Closing the iteration early (the caller
    cancelled) closes the model's stream."""
    answer = _Answer(style)
    if not any(facts.has(source) for source in prompt.requires_any):
        piece = answer.add(Checked.computed(prompt.no_data))
        assert piece is not None
        yield RunPromptResponse(text=piece)
        yield RunPromptResponse(result=answer.result(no_data=True))
        return

    limit = style.sentences + (1 if style.layout == "list" else 0)
    buffer = SentenceBuffer()
    produced = 0
    try:
        stream = model.stream(
            messages_for(prompt, facts, style, placement), style.max_tokens
        )
        async with contextlib.aclosing(stream) as pieces:
            async for delta in pieces:
                for sentence in buffer.feed(delta):
                    produced += 1
                    piece = answer.add(check(sentence))
                    if piece is not None:
                        yield RunPromptResponse(text=piece)
                    if produced >= limit:
                        break
                if produced >= limit:
                    # Leaving the loop closes the stream: generation stops there.
                    break
        if produced < limit:
            for sentence in buffer.flush():
                piece = answer.add(check(sentence))
                if piece is not None:
                    yield RunPromptResponse(text=piece)
    except ModelUnavailable:
        if answer.pieces:
            # Part of the answer is already in the editor; it stands as it is.
            yield RunPromptResponse(result=answer.result())
            return
        for fact in fallback_facts(prompt, facts):
            text = _voiced(fact.text, style)
            piece = answer.add(Checked.computed(text, (fact.context_id,)))
            if piece is not None:
                yield RunPromptResponse(text=piece)
        yield RunPromptResponse(result=answer.result(fallback=True))
        return
    yield RunPromptResponse(result=answer.result())


def _voiced(text: str, style: Style) -> str:
    if style.client == "the client":
        return text
    return text.replace("the client", style.client)
