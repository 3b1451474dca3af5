"""Note formats as data: headings with what belongs under each, the JSON shape the
model answers in for any headings, and the parser of that answer.

The built-in formats (SOAP, DAP, BIRP, GIRP, PIE, narrative) are the JSON files in
``format_specs/``, loaded at import; a clinician's own template becomes a format the
same way. Nothing here depends on which format it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from notewell.drafter.evidence import ids_schema
from notewell.drafter.model import InvalidModelOutput, load_json
from notewell.notes.v1.note_pb2 import NoteFormat as NoteFormatCode
from notewell.notes.v1.note_pb2 import NoteTemplate

NOT_ADDRESSED = "Not addressed in this session."
# Enough to ground a section; more only spends a slow model's output tokens.
MAX_IDS_PER_SECTION = 6

# The length of a note is asked for in sentences per section, and the schema holds
# the model to that range: a small model ignores a word count, but a grammar that
# admits only two to four sentences is followed exactly.
WORDS_PER_SENTENCE = 18
# A sentence above this many characters (about 35 words) is a run-on that would defeat
# the sentence count; one under the minimum is a fragment.
MIN_SENTENCE_CHARS = 20
MAX_SENTENCE_CHARS = 220
# A session supports a note of at most this share of its own words: a 300-word
# session cannot fill a 350-word note without padding, and padding is where invented
# findings come from.
NOTE_WORDS_PER_SESSION_WORD = 0.4
MIN_NOTE_WORDS = 60

# Sections the drafter writes in code around the model's; a template heading with one
# of these keys is left to the code.
SESSION_KEY = "session"
SAFETY_KEY = "safety"
RESERVED_KEYS = frozenset({SESSION_KEY, SAFETY_KEY})

_NOT_KEY = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Heading:
    key: str
    title: str
    # What belongs under the heading, as the model is told.
    instruction: str


@dataclass(frozen=True)
class NoteFormat:
    # What Note.format records: "SOAP", "DAP", ..., or "CUSTOM".
    name: str
    headings: tuple[Heading, ...]
    template_id: str = ""

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(h.key for h in self.headings)


@dataclass(frozen=True)
class SectionSize:
    """How many sentences each section the session covered may have."""

    min_sentences: int
    max_sentences: int

    @property
    def aim(self) -> int:
        """The sentences to ask for: the middle of the range."""
        return (self.min_sentences + self.max_sentences) // 2


def section_size(target_words: int, headings: int, session_words: int) -> SectionSize:
    """The sentence range per section for a note of about ``target_words`` under
    ``headings`` headings, shrunk to what a session of ``session_words`` supports."""
    supported = max(MIN_NOTE_WORDS, round(session_words * NOTE_WORDS_PER_SESSION_WORD))
    words = min(target_words, supported) / max(headings, 1)
    aim = max(1, round(words / WORDS_PER_SENTENCE))
    # One sentence either way around the aim, except that an aim of one stays one: a
    # small model writes the most a range allows, and one or two would double it.
    return SectionSize(max(1, aim - 1), aim + 1 if aim > 1 else 1)


@dataclass(frozen=True)
class Statement:
    text: str
    utterance_ids: tuple[str, ...] = ()
    context_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    key: str
    title: str
    text: str
    utterance_ids: tuple[str, ...] = ()
    context_ids: tuple[str, ...] = ()
    # The text statement by statement, when it was checked that way.
    statements: tuple[Statement, ...] = field(default=())


def _load_built_in() -> dict[str, NoteFormat]:
    found: dict[str, NoteFormat] = {}
    folder = resources.files("notewell.drafter").joinpath("format_specs")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        spec = json.loads(entry.read_text(encoding="utf-8"))
        headings = tuple(
            Heading(h["key"], h["title"], h["instruction"]) for h in spec["headings"]
        )
        found[spec["name"]] = NoteFormat(spec["name"], headings)
    return found


BUILT_IN: dict[str, NoteFormat] = _load_built_in()
SOAP = BUILT_IN["SOAP"]

_BY_CODE = {
    NoteFormatCode.NOTE_FORMAT_SOAP: "SOAP",
    NoteFormatCode.NOTE_FORMAT_DAP: "DAP",
    NoteFormatCode.NOTE_FORMAT_BIRP: "BIRP",
    NoteFormatCode.NOTE_FORMAT_GIRP: "GIRP",
    NoteFormatCode.NOTE_FORMAT_PIE: "PIE",
    NoteFormatCode.NOTE_FORMAT_NARRATIVE: "NARRATIVE",
}


def from_template(template: NoteTemplate) -> NoteFormat | None:
    """The clinician's template as a format; None when it has no usable heading."""
    headings: list[Heading] = []
    seen: set[str] = set()
    for heading in template.headings:
        title = heading.title.strip() or heading.key.strip()
        key = _NOT_KEY.sub("_", (heading.key or title).casefold()).strip("_")
        if not key or key in seen or key in RESERVED_KEYS:
            continue
        seen.add(key)
        instruction = heading.instruction.strip() or f"What belongs under {title}."
        headings.append(Heading(key, title, instruction))
    if not headings:
        return None
    return NoteFormat("CUSTOM", tuple(headings), template.template_id)


def chosen_format(code: int, template: NoteTemplate | None = None) -> NoteFormat:
    """The format the preferences name; SOAP when they name none or an unusable
    template."""
    if code == NoteFormatCode.NOTE_FORMAT_CUSTOM and template is not None:
        custom = from_template(template)
        if custom is not None:
            return custom
    return BUILT_IN[_BY_CODE.get(code, "SOAP")]


# Names the pattern can spell out: a grammar that fails to parse takes the llama.cpp
# server down, so nothing else is let in.
_PLAIN_NAME = re.compile(r"[\w .,'’()&/-]+")


def _class_literal(text: str) -> str:
    """``text`` as a pattern that matches it exactly: letters, digits and spaces as
    themselves, every other character in a one-character class."""
    return "".join(c if c.isalnum() or c == " " else f"[{c}]" for c in text)


def sentence_pattern(names: tuple[str, ...] = ()) -> str:
    """A pattern admitting exactly one sentence of MIN_SENTENCE_CHARS to
    MAX_SENTENCE_CHARS characters.

    A small model given a list of sentences packs several into each item and runs on
    across items, so counting items would not count sentences. Here ".", "!" and "?"
    end the item: inside it they may only be followed by something other than a space
    ("7.5", "e.g.,", a closing quote), belong to a title or time ("Dr. ", "Ms. ",
    "4 p.m. ") or to one of ``names`` (the note's words for the clinician and client,
    such as "Dr. Lee" or "J.D."). Other abbreviations are written without the stop or
    before a comma: each exception is one more alternative the server weighs at every
    character, and a list of fourteen more than doubled the time to write a note.

    Grammar-constrained servers (llama.cpp) apply a string's pattern to the characters
    of the JSON text, escapes included, so the pattern keeps out a bare quote,
    backslash or control character and admits a quote only as the escape \\". A name
    with characters other than letters, digits, spaces and ".,'’()&/-" gets no
    exception of its own.
    """
    units = [
        r'[^.!?"\\\x00-\x1f]',
        r'\\"',
        r'[.!?][^ "\\\x00-\x1f]',
        # A quote ending in a stop, then the sentence goes on.
        r'[.!?]\\"( [a-z]|[,;:)])',
        # Titles and times, each one alternative: "Dr. ", "Mrs. ", "4 p.m. ".
        "[DM][rs]s?[.] ",
        "[ap][.]m[.] ",
    ]
    for name in sorted(set(names)):
        if any(c in name for c in ".!?") and _PLAIN_NAME.fullmatch(name):
            units.append(_class_literal(name))
    body = "(" + "|".join(units) + f"){{{MIN_SENTENCE_CHARS},{MAX_SENTENCE_CHARS}}}"
    return "^" + body + r"""[.!?](\\"|[)’”'])?$"""


def sentences_schema(size: SectionSize, names: tuple[str, ...] = ()) -> dict[str, Any]:
    """A section's sentences, one to an item (see sentence_pattern): within the size's
    range, or the one not-addressed sentence, so that the range never forces text the
    session does not support."""
    return {
        "anyOf": [
            {
                "type": "array",
                "items": {"type": "string", "pattern": sentence_pattern(names)},
                "minItems": size.min_sentences,
                "maxItems": size.max_sentences,
            },
            {
                "type": "array",
                "items": {"const": NOT_ADDRESSED},
                "minItems": 1,
                "maxItems": 1,
            },
        ]
    }


def note_schema(
    note_format: NoteFormat,
    known_ids: frozenset[str],
    context_ids: tuple[str, ...],
    size: SectionSize,
    names: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One object per heading: its sentences and the utterance and context ids it rests
    on. Context ids are only asked for when there are context items to cite. ``names``
    are the note's words for the clinician and client (see sentence_pattern)."""
    properties: dict[str, Any] = {
        "sentences": sentences_schema(size, names),
        "utterance_ids": ids_schema(known_ids, MAX_IDS_PER_SECTION),
    }
    required = ["sentences", "utterance_ids"]
    if context_ids:
        properties["context_ids"] = {
            "type": "array",
            "items": {"type": "string", "enum": list(context_ids)},
            "maxItems": MAX_IDS_PER_SECTION,
        }
        required.append("context_ids")
    section = {"type": "object", "properties": properties, "required": required}
    return {
        "type": "object",
        "properties": {key: section for key in note_format.keys},
        "required": list(note_format.keys),
    }


def parse_note(note_format: NoteFormat, content: str) -> list[Section]:
    """The format's sections from a model answer, in heading order, unchecked;
    InvalidModelOutput (never quoting the answer) when a heading is missing or
    misshapen."""
    answer = load_json(content)
    if not isinstance(answer, dict):
        raise InvalidModelOutput("answer is not a JSON object")
    sections: list[Section] = []
    for heading in note_format.headings:
        part = answer.get(heading.key)
        if not isinstance(part, dict):
            raise InvalidModelOutput("answer does not match the note schema")
        sections.append(
            Section(
                heading.key,
                heading.title,
                _joined(_strings(part.get("sentences"))),
                _strings(part.get("utterance_ids")),
                _strings(part.get("context_ids")),
            )
        )
    return sections


_ENDS_SENTENCE = re.compile(r"[.!?…][\"'”’)\]]*$")


def _joined(sentences: tuple[str, ...]) -> str:
    """The sentences as one paragraph; one the model left unfinished gets its full
    stop, so later checks do not read it as part of the next."""
    kept = [" ".join(s.split()) for s in sentences]
    return " ".join(s if _ENDS_SENTENCE.search(s) else s + "." for s in kept if s)


def _strings(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidModelOutput("answer does not match the note schema")
    return tuple(value)
