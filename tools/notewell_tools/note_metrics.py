"""What the evaluation measures in a note: ROUGE against a reference, quotations said
verbatim, numbers found in the sources, risk statements and their evidence, and
sections left empty where the session has content."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from rouge_score import rouge_scorer

from notewell.common.v1.common_pb2 import SpeakerRole, Transcript

_SCORER = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL", "rougeLsum"])


def rouge(prediction: str, reference: str) -> dict[str, float]:
    """ROUGE F-measures in percent, as the ACI-Bench figures are given: no stemming
    (the Hugging Face ``evaluate`` default their script uses); ROUGE-Lsum splits
    sentences at newlines."""
    scores = _SCORER.score(reference, prediction)
    return {name: round(100 * score.fmeasure, 2) for name, score in scores.items()}


_QUOTATION = re.compile(r"[“\"]([^“”\"\n]+)[”\"]")
_ELLIPSIS = re.compile(r"\.\.\.|…")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


def _words(text: str) -> str:
    text = text.casefold().replace("’", "'").replace("‘", "'").replace("'", "")
    return " ".join(_PUNCTUATION.sub(" ", text).split())


def quotations(text: str) -> list[str]:
    """The words inside each double-quoted span of ``text``."""
    return [m.group(1) for m in _QUOTATION.finditer(text) if m.group(1).strip()]


def said_verbatim(quote: str, utterances: Sequence[str]) -> bool:
    """Whether the quote's words occur, whole and in order, within one utterance
    (case and punctuation aside); an ellipsis may leave words out between parts."""
    parts = [f" {_words(p)} " for p in _ELLIPSIS.split(quote) if _words(p)]
    if not parts:
        return False
    for utterance in utterances:
        said = f" {_words(utterance)} "
        position = 0
        for part in parts:
            found = said.find(part, position)
            if found < 0:
                break
            position = found + len(part) - 1
        else:
            return True
    return False


_NUMBER_WORDS = [
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    *("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen"),
    *("seventeen", "eighteen", "nineteen", "twenty"),
]
_NUMBER = re.compile(
    r"(?<![\w.])\d+(?:\.\d+)?(?![\w])|\b(?:" + "|".join(_NUMBER_WORDS) + r")\b",
    re.IGNORECASE,
)
# Instrument names carry digits that are no figure: PHQ-9, GAD-7.
_INSTRUMENT = re.compile(r"\b[A-Z]{2,}-\d+\b")


def numbers(text: str) -> list[str]:
    """The numbers in ``text`` as digit strings: "three" and "3" are both "3"."""
    text = _INSTRUMENT.sub(" ", text)
    found = []
    for match in _NUMBER.finditer(text):
        token = match.group(0).casefold()
        if token in _NUMBER_WORDS:
            token = str(_NUMBER_WORDS.index(token))
        elif "." in token:
            token = token.rstrip("0").rstrip(".")
        found.append(token.lstrip("0") or "0")
    return found


def matched_numbers(note: str, sources: Iterable[str]) -> tuple[int, int]:
    """How many of the note's numbers occur in the sources, and how many it has."""
    known = {value for text in sources for value in numbers(text)}
    mentioned = numbers(note)
    return sum(value in known for value in mentioned), len(mentioned)


_RISK = re.compile(
    r"suicid\w*|self[- ]?harm\w*|kill(?:ing)? (?:myself|himself|herself|themselves)|"
    r"(?:hurt|harm|cut)(?:ing)? (?:myself|himself|herself|themselves)|"
    r"overdos\w*|end (?:my|his|her|their) life|want(?:ed|s)? to die|better off dead|"
    r"violen\w*|abus\w*|assault\w*|unsafe",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def risk_sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if _RISK.search(s)]


def mentions_risk(text: str) -> bool:
    return bool(_RISK.search(text))


# What a SOAP section needs from the session before it may be left empty.
_PLAN_CUES = re.compile(
    r"\bnext (?:week|time|session|step)|\bhomework\b|\bplan\b|\bgoal\b|\bgoing to try\b|"
    r"\bwill try\b|\bpractice\b|\bsee you\b",
    re.IGNORECASE,
)


def expected_sections(transcript: Transcript) -> set[str]:
    """The SOAP sections the transcript has content for: subjective when the client
    says 50 words or more, objective when the therapist does, assessment when either,
    plan when the session speaks of next steps."""

    def said_by(role: int) -> int:
        return sum(len(u.text.split()) for u in transcript.utterances if u.role == role)

    expected = set()
    if said_by(SpeakerRole.SPEAKER_ROLE_CLIENT) >= 50:
        expected |= {"subjective", "assessment"}
    if said_by(SpeakerRole.SPEAKER_ROLE_CLINICIAN) >= 50:
        expected |= {"objective", "assessment"}
    if any(_PLAN_CUES.search(u.text) for u in transcript.utterances):
        expected.add("plan")
    return expected


def is_unfilled(text: str, not_addressed: str) -> bool:
    return not _words(text) or _words(text) == _words(not_addressed)
