"""The Prompts gRPC service: the "/" menu, generation at the cursor and Insights."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeAlias, TypeVar

import grpc

from notewell.notes.v1.note_pb2 import Note
from notewell.platform.auth import TokenVerifier
from notewell.platform.logs import get_logger
from notewell.platform.notes_context import ContextUnavailable
from notewell.prompts import catalog
from notewell.prompts.checking import grounding_source, sentence_check
from notewell.prompts.facts import compute
from notewell.prompts.generation import Placement, run_prompt
from notewell.prompts.insights import build_insights
from notewell.prompts.model import LanguageModel
from notewell.prompts.own_templates import OwnTemplates, TemplatesUnavailable
from notewell.prompts.record import ClientNotFound, ClientRecord, RecordReader
from notewell.prompts.settings import Settings
from notewell.prompts.style import line_lead, style_for
from notewell.prompts.v1 import prompts_pb2_grpc
from notewell.prompts.v1.prompts_pb2 import (
    GetInsightsRequest,
    Insights,
    ListPromptsRequest,
    ListPromptsResponse,
    PromptResult,
    RunPromptRequest,
    RunPromptResponse,
)

log = get_logger(__name__)

Context: TypeAlias = "grpc.aio.ServicerContext[Any, Any]"
S = TypeVar("S")
Q = TypeVar("Q")
R = TypeVar("R")

# Every signed note the store hands out, for counting themes.
INSIGHTS_NOTES = 20
DEFAULT_RECENT_DAYS = 14
ID_CHARS = 200


class Refused(Exception):
    """A call answered with a status; the message names no clinical content."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def _refusal(exc: Exception) -> Refused | None:
    if isinstance(exc, Refused):
        return exc
    if isinstance(exc, ClientNotFound):
        return Refused(grpc.StatusCode.NOT_FOUND, "client not found")
    if isinstance(exc, ContextUnavailable | TemplatesUnavailable):
        return Refused(grpc.StatusCode.UNAVAILABLE, "notes store unavailable")
    return None


async def _abort(context: Context, method: str, exc: Exception) -> None:
    refusal = _refusal(exc)
    if refusal is not None:
        await context.abort(refusal.code, str(refusal))
    # The exception's own message may quote what caused it.
    log.error(
        "prompts_call_failed", extra={"method": method, "error_type": type(exc).__name__}
    )
    await context.abort(grpc.StatusCode.INTERNAL, "internal error")


def answers_refusals(
    method: Callable[[S, Q, Context], Awaitable[R]],
) -> Callable[[S, Q, Context], Awaitable[R]]:
    @functools.wraps(method)
    async def call(self: S, request: Q, context: Context) -> R:
        try:
            return await method(self, request, context)
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, method.__name__, exc)
        raise AssertionError("unreachable")

    return call


def _client_id(request: RunPromptRequest | GetInsightsRequest) -> str:
    named = request.client_id.strip()
    if isinstance(request, RunPromptRequest) and request.note.client_id:
        if named and named != request.note.client_id:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "client_id differs from note")
        named = request.note.client_id
    if not named:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "client_id is required")
    if len(named) > ID_CHARS:
        raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "client_id is too long")
    return named


def _placement(note: Note, section_key: str, record: ClientRecord) -> Placement:
    headings: dict[str, catalog.Heading] = {}
    fmt = catalog.formats().get(note.format.upper())
    if fmt is not None:
        format_name = fmt.name
        headings = {h.key: h for h in fmt.headings}
    elif record.custom_template is not None:
        format_name = record.custom_template.name or "progress note"
        headings = {h.key: h for h in catalog.template_headings(record.custom_template)}
    else:
        format_name = "progress note"
    section = next((s for s in note.sections if s.key == section_key), None)
    heading = headings.get(section_key)
    title = (section.title if section else "") or (heading.title if heading else "")
    current = "\n".join(
        f"{s.title or s.key}: {s.text.strip()}" for s in note.sections if s.text.strip()
    )
    return Placement(
        format_name=format_name,
        section_title=title or "note",
        section_purpose=heading.instruction if heading else "",
        current_text=current,
    )


def _section_text(note: Note, section_key: str) -> str:
    section = next((s for s in note.sections if s.key == section_key), None)
    return section.text if section else ""


class PromptsService(prompts_pb2_grpc.PromptsServicer):
    def __init__(
        self,
        settings: Settings,
        verifier: TokenVerifier,
        records: RecordReader,
        templates: OwnTemplates,
        model: LanguageModel,
    ) -> None:
        self._settings = settings
        self._verifier = verifier
        self._records = records
        self._templates = templates
        self._model = model

    @answers_refusals
    async def ListPrompts(
        self, request: ListPromptsRequest, context: Context
    ) -> ListPromptsResponse:
        await self._verifier.clinician_of(context)
        items = [p.item() for p in catalog.prompts().values()]
        try:
            own = await self._templates.of_caller(context)
        except TemplatesUnavailable:
            # The menu still works; only the clinician's own templates are missing.
            own = []
        return ListPromptsResponse(prompts=items + catalog.template_items(own))

    async def RunPrompt(
        self, request: RunPromptRequest, context: Context
    ) -> AsyncIterator[RunPromptResponse]:
        try:
            clinician_id = await self._verifier.clinician_of(context)
            if request.prompt_id.startswith(catalog.TEMPLATE_PREFIX):
                text = await self._blank(request, context)
                yield RunPromptResponse(text=text)
                yield RunPromptResponse(result=PromptResult(text=text))
                return
            prompt = catalog.prompts().get(request.prompt_id)
            if prompt is None:
                raise Refused(grpc.StatusCode.NOT_FOUND, "no such prompt")
            client_id = _client_id(request)
            record = await self._records.read(
                clinician_id,
                client_id,
                self._settings.context_notes,
                exclude_session_id=request.note.session_id,
            )
            facts = compute(
                record.notes, record.client, record.measurements, record.wearable_days
            )
            placement = _placement(request.note, request.section_key, record)
            style = style_for(
                record.preferences,
                record.clinician,
                record.client,
                _section_text(request.note, request.section_key),
                request.cursor_offset,
                prompt.layout,
            )
            style = replace(
                style, max_tokens=min(style.max_tokens, self._settings.prompt_max_tokens)
            )
            check = sentence_check(grounding_source(facts, placement.current_text), style)
            log.info(
                "prompt_started",
                extra={"prompt_id": prompt.prompt_id, "clinician_id": clinician_id},
            )
            async for response in run_prompt(
                prompt, facts, style, placement, self._model, check
            ):
                if response.HasField("result"):
                    _log_result(prompt.prompt_id, response.result)
                yield response
        except grpc.aio.AbortError:
            raise
        except Exception as exc:
            await _abort(context, "RunPrompt", exc)

    async def _blank(self, request: RunPromptRequest, context: Context) -> str:
        """A blank template's headings, written in code."""
        prompt_id = request.prompt_id
        if prompt_id.startswith(catalog.FORMAT_PREFIX):
            code = prompt_id[len(catalog.FORMAT_PREFIX) :].upper()
            fmt = catalog.formats().get(code)
            if fmt is None:
                raise Refused(grpc.StatusCode.NOT_FOUND, "no such prompt")
            headings = list(fmt.headings)
        else:
            template_id = prompt_id[len(catalog.CUSTOM_PREFIX) :]
            own = await self._templates.of_caller(context)
            found = next((t for t in own if t.template_id == template_id), None)
            if found is None:
                raise Refused(grpc.StatusCode.NOT_FOUND, "no such prompt")
            headings = catalog.template_headings(found)
        section_text = _section_text(request.note, request.section_key)
        lead = line_lead(section_text, request.cursor_offset)
        return lead + catalog.blank_text(headings)

    @answers_refusals
    async def GetInsights(
        self, request: GetInsightsRequest, context: Context
    ) -> Insights:
        clinician_id = await self._verifier.clinician_of(context)
        client_id = _client_id(request)
        if request.recent_days < 0 or request.recent_days > 365:
            raise Refused(grpc.StatusCode.INVALID_ARGUMENT, "recent_days is out of range")
        record = await self._records.read(clinician_id, client_id, INSIGHTS_NOTES)
        # Drawing the chart takes long enough to hold up other calls.
        insights = await asyncio.to_thread(
            build_insights,
            client_id,
            record.notes,
            record.measurements,
            record.wearable_days,
            request.recent_days or DEFAULT_RECENT_DAYS,
        )
        log.info(
            "insights_built",
            extra={
                "clinician_id": clinician_id,
                "scores": len(insights.scores),
                "wearables": len(insights.wearables),
                "themes": len(insights.themes),
            },
        )
        return insights


def _log_result(prompt_id: str, result: PromptResult) -> None:
    log.info(
        "prompt_done",
        extra={
            "prompt_id": prompt_id,
            "statements": len(result.statements),
            "no_data": result.no_data,
            "removed_quotes": result.removed_quotes,
            "removed_statements": result.removed_statements,
            "extractive_fallback": result.extractive_fallback,
        },
    )
