"""Numbers in clinical text, read the same way in a note and in its sources so they can
be compared: digits, number words up to a hundred, percentages, ranges, scores, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Instrument names carry digits that are not figures: PHQ-9, GAD-7, PCL-5, AUDIT-C, K10.
# The common ones are recognised in any case and with any hyphen, a space or none
# ("phq-9", "PHQ9", "PHQ 9"), so a score written that way is still read as theirs.
_DASH = "[-‐‑–]"
INSTRUMENT = re.compile(
    r"(?<![\w-])(?:[A-Z]{2,}[A-Z0-9]*(?:-[A-Z0-9]+)+|K10|K6"
    rf"|(?i:phq|gad){_DASH}?\s?\d{{1,2}}|(?i:pcl){_DASH}?\s?5|(?i:audit){_DASH}c"
    r"|(?i:k)10)(?![\w-])"
)

_NUMBER_WORDS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
)
_WORDS = _NUMBER_WORDS.split()
_TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_WORD_VALUE = {word: value for value, word in enumerate(_WORDS)}
_WORD_VALUE.update({word: 20 + 10 * n for n, word in enumerate(_TENS)})
_WORD_VALUE["hundred"] = 100
# "twenty", "twenty-one", "twenty one", ..., "ninety-nine", and "hundred".
_NUMBER_WORD = (
    rf"(?:{'|'.join(_TENS)})(?:[- ](?:{'|'.join(_WORDS[1:10])})(?![\w-]))?"
    rf"|{'|'.join(_WORDS)}|hundred"
)
_NUMBER = re.compile(
    r"(?<![\w.,/:-])(?:(?P<a>\d+)\s+(?:out of|of)\s+(?P<b>\d+)"
    r"|(?P<token>\d+(?:[.,:/-]\d+)*))(?![\w/-]|[.,:/-]\d)"
    rf"|(?<![\w-])(?P<word>{_NUMBER_WORD})(?![\w-])",
    re.IGNORECASE,
)


def _word_value(words: str) -> str:
    """A number written in words as digits: "twenty-one" -> "21"."""
    return str(sum(_WORD_VALUE[w] for w in re.split(r"[- ]", words.lower())))


@dataclass(frozen=True)
class Figure:
    """One number as written, from ``start`` to ``end``: ``value`` for a single figure,
    ``pair`` for a score or a range ("14/27", "14 out of 27", "3-4"), ``exact`` for a
    date or clock time."""

    start: int
    value: str = ""
    pair: tuple[str, str] | None = None
    exact: str = ""
    end: int = -1


def mask_instruments(text: str) -> str:
    """``text`` with instrument names blanked out, positions unchanged."""
    return INSTRUMENT.sub(lambda m: " " * len(m.group(0)), text)


def figures(text: str) -> list[Figure]:
    """The numbers in ``text`` (instrument names are not numbers), in order."""
    found: list[Figure] = []
    for m in _NUMBER.finditer(mask_instruments(text)):
        start, end = m.span()
        if m.group("word"):
            found.append(Figure(start, value=_word_value(m.group("word")), end=end))
        elif m.group("a"):
            pair = (_plain(m["a"]), _plain(m["b"]))
            found.append(Figure(start, pair=pair, end=end))
        else:
            found.append(_figure(start, end, m.group("token")))
    return found


def _figure(start: int, end: int, token: str) -> Figure:
    if ":" in token:
        return Figure(start, exact=token, end=end)
    parts = re.split(r"[/-]", token)
    if len(parts) == 2:
        return Figure(start, pair=(_plain(parts[0]), _plain(parts[1])), end=end)
    if len(parts) > 2:
        return Figure(start, exact=token, end=end)
    return Figure(start, value=_plain(token.replace(",", "")), end=end)


def _plain(digits: str) -> str:
    """Leading zeros dropped, so "07" and "7" read alike."""
    stripped = digits.lstrip("0")
    return stripped if stripped and stripped[0] != "." else "0" + stripped


@dataclass
class FigureSet:
    """Every figure a text holds, for asking whether a note's figure is among them."""

    values: set[str]
    pairs: set[tuple[str, str]]
    exact: set[str]

    @classmethod
    def of(cls, text: str) -> FigureSet:
        values: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        exact: set[str] = set()
        for f in figures(text):
            if f.pair:
                pairs.add(f.pair)
                values.update(f.pair)
            elif f.exact:
                exact.add(f.exact)
            else:
                values.add(f.value)
        return cls(values, pairs, exact)

    def holds(self, figure: Figure) -> bool:
        if figure.pair:
            return figure.pair in self.pairs or set(figure.pair) <= self.values
        if figure.exact:
            return figure.exact in self.exact
        return figure.value in self.values

    def update(self, other: FigureSet) -> None:
        self.values |= other.values
        self.pairs |= other.pairs
        self.exact |= other.exact
