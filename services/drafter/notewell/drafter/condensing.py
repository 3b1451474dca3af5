"""The material the note is written from: the compacted transcript when it fits the
note prompt's budget; otherwise excerpts of it chosen in code, or short points that
cite their utterances, condensed from it one model call per chunk."""

from __future__ import annotations

import json
import math
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError

from notewell.common.v1.common_pb2 import Transcript
from notewell.drafter import prompts
from notewell.drafter.evidence import ids_schema, known_ids, transcript_ids
from notewell.drafter.excerpts import excerpt
from notewell.drafter.model import (
    InvalidModelOutput,
    LanguageModel,
    ModelUnavailable,
    load_json,
)
from notewell.drafter.settings import Settings
from notewell.drafter.transcript import (
    CHARS_PER_TOKEN,
    Line,
    compact_lines,
    material_chars,
    split_at_spaces,
)
from notewell.platform.logs import get_logger

log = get_logger(__name__)

# One round brings any real session within the budget (a chunk of about 13,500
# characters becomes four points of about 100); later rounds are for sessions many
# times longer than the longest recorded.
MAX_CONDENSING_ROUNDS = 3

# Three to six points of under 15 words, with their ids, are at most about 250 tokens
# of answer: a chunk costs seconds, not minutes, to write, and every chunk's points
# together stay far inside the note prompt's budget, so one round of condensing is
# enough. Asked for "at most" alone, the model often wrote one or two points for a
# chunk of thousands of words, too little to write a note from.
MIN_POINTS_PER_CHUNK = 3
MAX_POINTS_PER_CHUNK = 6


def point_line(text: str, utterance_ids: tuple[str, ...]) -> Line:
    label = f"[{', '.join(utterance_ids)}]" if utterance_ids else "[no id]"
    return Line(label, " ".join(text.split()))


def chunks(lines: list[Line], chunk_chars: int) -> list[list[Line]]:
    """Consecutive runs of lines of about equal size, none above ``chunk_chars``. A line
    longer than a chunk is split at spaces, each piece keeping its label, so nothing is
    left out."""
    pieces = [piece for line in lines for piece in _split(line, chunk_chars)]
    total = material_chars(pieces)
    target = total / max(1, math.ceil(total / chunk_chars))
    out: list[list[Line]] = []
    current: list[Line] = []
    size = consumed = 0
    for piece in pieces:
        length = len(piece.render()) + 1
        # A chunk ends where the piece's middle would cross the next multiple of the
        # average size, so rounding never piles up into a scrap of a last chunk.
        past_boundary = consumed + length / 2 > (len(out) + 1) * target
        if current and (past_boundary or size + length > chunk_chars):
            out.append(current)
            current, size = [], 0
        current.append(piece)
        size += length
        consumed += length
    if current:
        out.append(current)
    return out


def _split(line: Line, chunk_chars: int) -> list[Line]:
    if len(line.render()) + 1 <= chunk_chars:
        return [line]
    room = max(chunk_chars - len(line.label) - 2, 1)
    # A "word" longer than a whole piece (no spaces at all) is cut where it must be.
    pieces = split_at_spaces(line.text, room, cut_words=True)
    return [Line(line.label, piece) for piece in pieces]


class _PointAnswer(BaseModel):
    text: str
    utterance_ids: list[str] = []


class _PointsAnswer(BaseModel):
    points: list[_PointAnswer]


def points_schema(known: frozenset[str]) -> dict[str, Any]:
    point = {
        "type": "object",
        "properties": {"text": {"type": "string"}, "utterance_ids": ids_schema(known)},
        "required": ["text", "utterance_ids"],
    }
    return {
        "type": "object",
        "properties": {
            "points": {
                "type": "array",
                "items": point,
                "minItems": MIN_POINTS_PER_CHUNK,
                "maxItems": MAX_POINTS_PER_CHUNK,
            }
        },
        "required": ["points"],
    }


def parse_points(content: str) -> list[tuple[str, list[str]]]:
    """The points of an answer. One cut off at the token limit keeps the points it
    completed: they are as good as those of a finished answer."""
    try:
        data = load_json(content)
    except InvalidModelOutput:
        data = _completed_points(content)
    try:
        answer = _PointsAnswer.model_validate(data)
    except ValidationError:
        raise InvalidModelOutput("answer does not match the points schema") from None
    return [(p.text, p.utterance_ids) for p in answer.points]


def _completed_points(content: str) -> Any:
    """The answer up to its last complete point, closed; InvalidModelOutput when no
    point was completed."""
    end = content.rfind("}")
    while end > 0:
        try:
            data = json.loads(content[: end + 1] + "]}")
        except json.JSONDecodeError:
            end = content.rfind("}", 0, end)
            continue
        if isinstance(data, dict) and data.get("points"):
            return data
        break
    raise InvalidModelOutput("answer is cut off before its first point")


class Condenser:
    def __init__(self, model: LanguageModel, chunk_tokens: int, max_tokens: int) -> None:
        self._model = model
        self._chunk_chars = chunk_tokens * CHARS_PER_TOKEN
        self._max_tokens = max_tokens

    async def condense(
        self, lines: list[Line], known: frozenset[str], from_points: bool
    ) -> list[Line]:
        """Points covering every line, citing only ids in ``known``, in session order."""
        parts = chunks(lines, self._chunk_chars)
        schema = points_schema(known)
        points: list[Line] = []
        for number, part in enumerate(parts, start=1):
            messages = prompts.condense_messages(
                [line.render() for line in part],
                number,
                len(parts),
                from_points,
                MIN_POINTS_PER_CHUNK,
                MAX_POINTS_PER_CHUNK,
            )
            found = await self._model.answer(
                "condense", messages, schema, self._max_tokens, parse_points
            )
            kept = [
                point_line(text, known_ids(ids, known))
                for text, ids in found
                if text.strip()
            ]
            points.extend(kept)
            log.info(
                "chunk_condensed",
                extra={"part": number, "parts": len(parts), "points": len(kept)},
            )
        return points


class Material(Enum):
    """What the note prompt's lines are."""

    TRANSCRIPT = "transcript"
    EXCERPTS = "excerpts"
    POINTS = "points"


async def prepare_material(
    transcript: Transcript, condenser: Condenser, settings: Settings
) -> tuple[list[Line], Material]:
    """The lines the note prompt carries, within LLM_TRANSCRIPT_BUDGET_TOKENS: the
    compacted transcript when it fits; otherwise, as DRAFTER_LONG_SESSIONS says,
    excerpts chosen in code or points condensed by the model. Excerpts give way to
    points when the sentences they must keep do not fit. ModelUnavailable when
    condensing cannot bring the session within the budget."""
    material = compact_lines(transcript)
    budget = settings.transcript_budget_tokens * CHARS_PER_TOKEN
    if material_chars(material) <= budget:
        return material, Material.TRANSCRIPT
    if settings.long_sessions == "excerpts":
        chosen = excerpt(material, budget)
        if chosen is not None:
            log.info(
                "transcript_excerpted",
                extra={
                    "chars_before": material_chars(material),
                    "chars_after": material_chars(chosen),
                },
            )
            return chosen, Material.EXCERPTS
    known = transcript_ids(transcript)
    rounds = 0
    while material_chars(material) > budget:
        # The note is never written from a cut transcript: condense instead.
        if rounds == MAX_CONDENSING_ROUNDS:
            raise ModelUnavailable("condensed points still exceed the budget")
        before = material_chars(material)
        material = await condenser.condense(material, known, from_points=rounds > 0)
        rounds += 1
        if not material:
            raise ModelUnavailable("condensing found nothing to write from")
        log.info(
            "transcript_condensed",
            extra={
                "round": rounds,
                "chars_before": before,
                "chars_after": material_chars(material),
            },
        )
    return material, Material.POINTS
