"""Checks every draft passes before anyone sees it: evidence must exist, quotes must be
the client's or therapist's own words, and an emptied section says so instead of being
filled in."""

from __future__ import annotations

import re
from dataclasses import dataclass

from notewell.common.v1.common_pb2 import Transcript
from notewell.drafter.evidence import known_ids, transcript_ids
from notewell.drafter.soap import NOT_ADDRESSED, Section

# A quotation in curly or straight double quotes (mixed pairs included).
QUOTED = re.compile(r"[“\"]([^“”\"]*)[”\"]")
_QUOTE_MARKS = re.compile(r"[“”\"]")
_NOT_WORD = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True)
class CheckReport:
    """Counts only; what was removed is never reported."""

    dropped_ids: int = 0
    removed_quotes: int = 0
    emptied_sections: int = 0


def normalise(text: str) -> str:
    """Lower case, apostrophes unified, punctuation to spaces, single spaces."""
    text = text.casefold().replace("’", "'").replace("‘", "'")
    return " ".join(_NOT_WORD.sub(" ", text).split())


class QuoteIndex:
    """Answers whether a phrase occurs, whole words, in some utterance."""

    def __init__(self, transcript: Transcript) -> None:
        self._utterances = [f" {normalise(u.text)} " for u in transcript.utterances]

    def spoken(self, phrase: str) -> bool:
        needle = normalise(phrase)
        if not needle:
            return False
        padded = f" {needle} "
        return any(padded in utterance for utterance in self._utterances)


def check_sections(
    sections: list[Section], transcript: Transcript
) -> tuple[list[Section], CheckReport]:
    known = transcript_ids(transcript)
    quotes = QuoteIndex(transcript)
    checked: list[Section] = []
    dropped = removed = emptied = 0
    for section in sections:
        ids = known_ids(section.utterance_ids, known)
        dropped += len(section.utterance_ids) - len(ids)
        text, count = remove_unspoken_quotes(section.text, quotes)
        removed += count
        if not normalise(text):
            text, ids = NOT_ADDRESSED, ()
            emptied += 1
        checked.append(Section(section.key, text, ids))
    return checked, CheckReport(dropped, removed, emptied)


def remove_unspoken_quotes(text: str, quotes: QuoteIndex) -> tuple[str, int]:
    """``text`` without the quotations (marks and words) nobody said; the count removed.
    Quote marks left unpaired are dropped too, so no unverified words read as a quote."""
    removed = 0

    def keep_if_spoken(match: re.Match[str]) -> str:
        nonlocal removed
        if quotes.spoken(match.group(1)):
            return match.group(0)
        removed += 1
        return " "

    text = QUOTED.sub(keep_if_spoken, text)

    # Marks outside the quotations kept are unpaired.
    rebuilt: list[str] = []
    position = 0
    for match in QUOTED.finditer(text):
        rebuilt.append(_QUOTE_MARKS.sub("", text[position : match.start()]))
        rebuilt.append(match.group(0))
        position = match.end()
    rebuilt.append(_QUOTE_MARKS.sub("", text[position:]))
    return _tidy("".join(rebuilt)), removed


def _tidy(text: str) -> str:
    """Spacing and punctuation left odd by a removal, line by line."""
    lines = []
    for line in text.splitlines():
        line = " ".join(line.split())
        line = re.sub(r"\s+([,.;:!?)])", r"\1", line)
        line = re.sub(r"\(\s*\)", "", line)
        line = re.sub(r"([,;:])(?=[.;:,])", "", line)
        line = " ".join(line.split())
        if line:
            lines.append(line)
    return "\n".join(lines)
