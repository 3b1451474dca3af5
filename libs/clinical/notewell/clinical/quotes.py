"""Quotations in model-written text: each must be somebody's exact words in the session,
attributed to whoever said them, and a note carries no more of them than asked."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from notewell.common.v1.common_pb2 import SpeakerRole

# Double quotation marks, straight or curly, mixed pairs included; one line at most.
# Low-9 („), guillemets («» and »«) and full-width (＂) marks count too, so a quotation
# in any of them is checked.
_OPENING = '“"„‟«»＂'
_CLOSING = '”"“»«＂'
_DOUBLE = re.compile(rf"[{_OPENING}]([^{_OPENING}{_CLOSING}\n]*)[{_CLOSING}]")
_DOUBLE_MARKS = re.compile(rf"[{_OPENING}{_CLOSING}]")
# Single quotation marks: the opening mark starts a word, the closing one ends a word,
# and a mark between two letters is an apostrophe ("can't", "I’m") inside the quotation.
_SINGLE = re.compile(
    r"(?<![\w'’])['‘](?=\w)((?:[^'‘’\"“”\n]|['’](?=\w))+?)(?<=\S)['’](?!\w)"
)
_NOT_WORD = re.compile(r"[^\w\s]|_")
_ELLIPSIS = re.compile(r"\.\.\.|…|\[\.\.\.\]")
_SENTENCE_END = re.compile(r"[.!?\n]")
# Words an ellipsis may not leave out: without them a quotation says the opposite.
_NEGATION = re.compile(r" (?:not|no|never|nothing|nobody|none|nor|cannot|t) ")
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_BARE_LIST_MARK = re.compile(r"[-*•–]|\d+[.)]")
# A progress-note sentence that opens on a reporting verb, with no subject of its own
# ("Reported feeling ...", "Also stated ..."), has the client as its subject. A list
# mark, a short heading ("Subjective:") and a leading adverb may come first.
_REPORTING_VERB = (
    r"(?:report|explain|mention|recount|recall|complain)(?:ed|s)|"
    r"(?:stat|describ|shar|endors|disclos|acknowledg|verbaliz|verbalis|voic|indicat)"
    r"(?:ed|es)|express(?:ed|es)|admit(?:ted|s)|add(?:ed|s)|den(?:ied|ies)|"
    r"said|says|told|tells"
)
_IMPLIED_CLIENT = re.compile(
    r"\s*(?:(?:[-*•–]|\d+[.)])\s+)?(?:[A-Z][\w/ ]{0,30}:\s+)?"
    r"(?:(?:also|further|then|later|again|initially|repeatedly|frequently|often|"
    r"additionally|subsequently|spontaneously)\s+)?"
    rf"(?:{_REPORTING_VERB})\b",
    re.IGNORECASE,
)


class Utterance(Protocol):
    """What the checks read from an utterance (``common_pb2.Utterance`` fits)."""

    id: str
    role: int
    start_seconds: float
    text: str


def normalise(text: str) -> str:
    """Lower case, punctuation (apostrophes too) to spaces, single spaces."""
    text = text.casefold().replace("’", "'").replace("‘", "'")
    return " ".join(_NOT_WORD.sub(" ", text).split())


class QuoteIndex:
    """Finds where a phrase was said, whole words, after normalising both sides.
    ``extra_texts`` (id -> text, such as earlier notes) count as sources too, without a
    speaker."""

    def __init__(
        self, utterances: Sequence[Utterance], extra_texts: Mapping[str, str] = {}
    ) -> None:
        self._utterances = list(utterances)
        self._spoken = [f" {normalise(u.text)} " for u in self._utterances]
        self._extra = {key: f" {normalise(text)} " for key, text in extra_texts.items()}

    def find(self, phrase: str) -> list[Utterance]:
        """The utterances containing ``phrase``, in transcript order. An ellipsis in
        ``phrase`` stands for words left out: its parts must occur in that order."""
        parts = _parts(phrase)
        if not parts:
            return []
        pairs = zip(self._utterances, self._spoken, strict=True)
        return [u for u, text in pairs if _in_order(parts, text)]

    def find_extra(self, phrase: str) -> list[str]:
        """The ids of the extra texts containing ``phrase``."""
        parts = _parts(phrase)
        if not parts:
            return []
        return [key for key, text in self._extra.items() if _in_order(parts, text)]

    def spoken(self, phrase: str) -> bool:
        parts = _parts(phrase)
        return bool(parts) and any(_in_order(parts, text) for text in self._spoken)


def _parts(phrase: str) -> list[str]:
    """``phrase`` normalised and padded, split where an ellipsis leaves words out."""
    return [f" {part} " for part in map(normalise, _ELLIPSIS.split(phrase)) if part]


def _in_order(parts: list[str], text: str) -> bool:
    """Each part found after the one before, with no negation in the words left out
    between them."""
    failed: set[tuple[int, int]] = set()

    def from_part(number: int, position: int) -> bool:
        if number == len(parts):
            return True
        if (number, position) in failed:
            return False
        part = parts[number]
        found = text.find(part, position)
        while found >= 0:
            if number and _NEGATION.search(text, position, found + 1):
                break
            # The space closing one part may open the next.
            if from_part(number + 1, found + len(part) - 1):
                return True
            found = text.find(part, found + 1)
        failed.add((number, position))
        return False

    return from_part(0, 0)


@dataclass(frozen=True)
class Quotation:
    """One quotation in a text: the span with its marks and the words inside."""

    start: int
    end: int
    words: str


def find_quotations(text: str) -> list[Quotation]:
    """Double-quoted spans first; single-quoted ones only outside them. In text order."""
    found = [Quotation(m.start(), m.end(), m.group(1)) for m in _DOUBLE.finditer(text)]
    masked = _mask(text, found)
    found += [Quotation(m.start(), m.end(), m.group(1)) for m in _SINGLE.finditer(masked)]
    return sorted(found, key=lambda q: q.start)


def _mask(text: str, quotations: Iterable[Quotation]) -> str:
    """``text`` with each quotation blanked out, positions unchanged."""
    chars = list(text)
    for q in quotations:
        chars[q.start : q.end] = " " * (q.end - q.start)
    return "".join(chars)


def verify_quotes(
    text: str,
    index: QuoteIndex,
    client_words: Iterable[str],
    clinician_words: Iterable[str],
) -> tuple[str, int]:
    """``text`` without the quotations (marks and words) nobody said, or said only by
    the other party than the one the sentence names; and how many were removed.

    The party a quotation is attributed to is the nearest of ``client_words`` or
    ``clinician_words`` before it in its sentence; else the client when the sentence
    opens on a reporting verb with no subject ("Reported feeling ..."), as a progress
    note's subjectless sentences are about the client; else the nearest party named
    after it; with none of these, any speaker will do. Double quote marks left
    unpaired are dropped too, so no unverified words read as a quotation."""
    quotations = find_quotations(text)
    masked = _mask(text, quotations)
    client = _words_pattern(client_words)
    clinician = _words_pattern(clinician_words)

    removed: list[Quotation] = []
    for q in quotations:
        role = _attributed_role(masked, q, client, clinician)
        if not _verified(q.words, index, role):
            removed.append(q)

    pieces: list[str] = []
    position = 0
    for q in removed:
        pieces += [text[position : q.start], " "]
        position = q.end
    pieces.append(text[position:])
    return tidy(_drop_unpaired_marks("".join(pieces))), len(removed)


def limit_quotes(text: str, max_quotes: int | None) -> str:
    """``text`` with its first ``max_quotes`` quotations as they are; the later ones keep
    their words without quote marks. ``None`` keeps every quotation."""
    if max_quotes is None:
        return text
    pieces: list[str] = []
    position = 0
    for q in find_quotations(text)[max(max_quotes, 0) :]:
        pieces += [text[position : q.start], q.words]
        position = q.end
    pieces.append(text[position:])
    return tidy(_drop_unpaired_marks("".join(pieces)))


def _verified(words: str, index: QuoteIndex, role: int | None) -> bool:
    speakers = index.find(words)
    if not speakers:
        return bool(index.find_extra(words))
    return role is None or any(u.role == role for u in speakers)


def _words_pattern(words: Iterable[str]) -> re.Pattern[str] | None:
    alternatives = sorted({w.strip() for w in words if w.strip()}, key=len, reverse=True)
    if not alternatives:
        return None
    joined = "|".join(re.escape(w) for w in alternatives)
    return re.compile(rf"(?<!\w)(?:{joined})(?!\w)", re.IGNORECASE)


def _attributed_role(
    masked: str,
    q: Quotation,
    client: re.Pattern[str] | None,
    clinician: re.Pattern[str] | None,
) -> int | None:
    """The role the sentence around ``q`` names as the speaker, if any."""
    start = max((m.end() for m in _SENTENCE_END.finditer(masked, 0, q.start)), default=0)
    after = _SENTENCE_END.search(masked, q.end)
    end = after.start() if after else len(masked)

    mentions: list[tuple[int, int]] = []
    for pattern, role in (
        (client, SpeakerRole.SPEAKER_ROLE_CLIENT),
        (clinician, SpeakerRole.SPEAKER_ROLE_CLINICIAN),
    ):
        if pattern is not None:
            mentions += [(m.start(), role) for m in pattern.finditer(masked, start, end)]
    before = [m for m in mentions if m[0] < q.start]
    if before:
        return max(before)[1]
    if _IMPLIED_CLIENT.match(masked, start, q.start):
        return SpeakerRole.SPEAKER_ROLE_CLIENT
    following = [m for m in mentions if m[0] >= q.end]
    return min(following)[1] if following else None


def _drop_unpaired_marks(text: str) -> str:
    rebuilt: list[str] = []
    position = 0
    for match in _DOUBLE.finditer(text):
        rebuilt.append(_DOUBLE_MARKS.sub("", text[position : match.start()]))
        rebuilt.append(match.group(0))
        position = match.end()
    rebuilt.append(_DOUBLE_MARKS.sub("", text[position:]))
    return "".join(rebuilt)


def tidy(text: str) -> str:
    """Spacing and punctuation left odd by a removal, line by line; empty lines go.
    Quotations stay exactly as written."""
    lines = []
    for line in text.splitlines():
        # Each quotation stands aside as a placeholder while the rest is tidied.
        quoted = find_quotations(line)
        originals = [line[q.start : q.end] for q in quoted]
        for number, q in reversed(list(enumerate(quoted))):
            line = f"{line[: q.start]}\x00{number}\x00{line[q.end :]}"
        line = " ".join(line.split())
        line = re.sub(r"\s+([,;:!?)]|\.(?!\.))", r"\1", line)
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"([,;:])(?=[.;:,!?])", "", line)
        line = re.sub(r"^[,;:.]\s*", "", line)
        line = " ".join(line.split())
        line = _restored(line, originals)
        if line and not _BARE_LIST_MARK.fullmatch(line):
            lines.append(line)
    return "\n".join(lines)


def _restored(line: str, originals: list[str]) -> str:
    """``line`` with each placeholder back to the quotation it stands for."""
    return _PLACEHOLDER.sub(lambda m: originals[int(m.group(1))], line)
