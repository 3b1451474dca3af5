"""Excerpts of a session too long for the note prompt, chosen in code: the sentences
that carry most of what the session was about, in session order and under their own
utterance ids, within a character budget.

Reading costs a small CPU model more than writing (about 50 prompt tokens a second on
two cores), so a 50-minute session read whole, even in chunks, takes minutes before the
note's first word. Choosing excerpts costs milliseconds and keeps the client's own
words, which quotes and evidence are checked against.

What is always kept: sentences with risk language or a risk screening question, the
opening turns (what the session set out to do) and the closing turns (plan, homework,
next appointment), and sentences with figures in them. The rest of the budget goes to
sentences by how much of the session's vocabulary they add per character: a word is
worth more the more turns it recurs in (the session's themes) and less each time an
already chosen sentence has said it, so the excerpts cover the session's topics
rather than repeat its most frequent one. The client's sentences count for more than
the therapist's: the note is about the client."""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter
from dataclasses import dataclass

from notewell.clinical.risk import risk_language
from notewell.drafter.transcript import Line, material_chars, split_at_spaces

# A line standing for turns left out, and the mark for sentences left out of a turn.
ELISION = "…"
GAP = Line(ELISION, "")

# Turns at the start and end of the session kept whole.
OPENING_LINES = 4
CLOSING_LINES = 6

# What a therapist's sentence is worth beside the same sentence said by the client.
THERAPIST_WEIGHT = 0.7

# A "sentence" longer than this (a transcript without punctuation) is chosen in
# pieces of about this size, cut at spaces.
MAX_PIECE_CHARS = 300

# Characters added to every sentence's cost when valuing it, not when fitting it: a
# fragment of a few words ("So insulin you.") must not win on value per character.
SENTENCE_OVERHEAD = 40

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)")
_WORD = re.compile(r"[a-z][a-z']+")
_FIGURE = re.compile(r"\d")

# Words that carry no topic: function words, and talk that fills every session.
_STOPWORD_TEXT = """
a about above after again against all also am an and any are aren't as at be because
been before being below between both but by can can't cannot could couldn't did didn't
do does doesn't doing don't down during each even ever every few for from further get
gets getting got had hadn't has hasn't have haven't having he he'd he'll he's her here
here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't
it it's its itself just kind know let's like lot maybe me mean more most much must
mustn't my myself no nor not now of off oh okay on once one only or other ought our
ours ourselves out over own pretty probably quite really right said same say says see
shan't she she'd she'll she's should shouldn't so some something sort still such than
that that's the their theirs them themselves then there there's these they they'd
they'll they're they've thing things think this those though through to too under
until up us very was wasn't way we we'd we'll we're we've well were weren't what
what's when when's where where's which while who who's whom why why's will with won't
would wouldn't yeah yes yet you you'd you'll you're you've your yours yourself
yourselves
"""
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())


@dataclass(frozen=True)
class _Sentence:
    line: int
    text: str
    words: frozenset[str]
    # The speaker's weight: the client's sentences count for more.
    weight: float
    risk: bool
    # Kept whatever the budget allows: risk, the opening and closing turns, figures.
    pinned: bool


def excerpt(lines: list[Line], budget_chars: int) -> list[Line] | None:
    """``lines`` within ``budget_chars``: whole when they fit, otherwise the chosen
    sentences of each turn, with ``…`` where sentences of a turn or whole turns were
    left out. None when the sentences that must be kept do not fit on their own, or
    when nothing does."""
    if material_chars(lines) <= budget_chars:
        return lines
    sentences, worth = _sentences(lines)
    chosen = {i for i, s in enumerate(sentences) if s.pinned}
    if _size(lines, sentences, chosen) > budget_chars:
        # The opening, closing and figures give way; risk language never does.
        chosen = {i for i, s in enumerate(sentences) if s.risk}
        if _size(lines, sentences, chosen) > budget_chars:
            return None
    _fill(lines, sentences, worth, chosen, budget_chars)
    if not chosen:
        return None
    return _render(lines, sentences, chosen)


def _sentences(lines: list[Line]) -> tuple[list[_Sentence], dict[str, float]]:
    """The lines' sentences, and each word's worth: higher the more turns it recurs
    in, since a session's themes come back turn after turn."""
    edge = set(range(OPENING_LINES)) | set(range(len(lines) - CLOSING_LINES, len(lines)))
    sentences: list[_Sentence] = []
    turns_with: Counter[str] = Counter()
    for number, line in enumerate(lines):
        weight = THERAPIST_WEIGHT if line.label.endswith("T:") else 1.0
        in_turn: set[str] = set()
        for part in _SENTENCE_END.split(line.text):
            for text in split_at_spaces(part, MAX_PIECE_CHARS):
                words = frozenset(_words(text))
                in_turn |= words
                risk = risk_language(text)
                pinned = number in edge or risk or bool(_FIGURE.search(text))
                sentences.append(_Sentence(number, text, words, weight, risk, pinned))
        turns_with.update(in_turn)
    worth = {word: math.log1p(count) for word, count in turns_with.items()}
    return sentences, worth


def _words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.casefold()) if w not in _STOPWORDS]


def _cost(lines: list[Line], sentence: _Sentence, opened: set[int]) -> int:
    """The most characters choosing the sentence can add: its text with a space and
    an elision mark after it, and when none of its turn was chosen yet, the turn's
    label with its space and line break, and a gap line split in two."""
    cost = len(sentence.text) + 3
    if sentence.line not in opened:
        cost += len(lines[sentence.line].label) + 4
    return cost


def _fill(
    lines: list[Line],
    sentences: list[_Sentence],
    worth: dict[str, float],
    chosen: set[int],
    budget: int,
) -> None:
    """Adds sentences to ``chosen`` greedily by value per character until nothing more
    fits. A word's worth is divided by one more than the times chosen sentences have
    said it. Values change as sentences are chosen (words said lose worth, a turn
    already opened costs no label), so a sentence popped from the heap is valued
    again and taken only if it still beats the next best."""
    said: Counter[str] = Counter()
    for i in chosen:
        said.update(sentences[i].words)
    opened = {sentences[i].line for i in chosen}
    room = budget - _size(lines, sentences, chosen)

    def ratio(i: int) -> float:
        s = sentences[i]
        value = sum(worth[w] / (1 + said[w]) for w in s.words)
        return s.weight * value / (_cost(lines, s, opened) + SENTENCE_OVERHEAD)

    heap = [(-ratio(i), i) for i in range(len(sentences)) if i not in chosen]
    heapq.heapify(heap)
    while heap and room > 0:
        _, i = heapq.heappop(heap)
        current = ratio(i)
        if heap and current < -heap[0][0]:
            heapq.heappush(heap, (-current, i))
            continue
        cost = _cost(lines, sentences[i], opened)
        if cost > room or current <= 0:
            continue
        chosen.add(i)
        opened.add(sentences[i].line)
        said.update(sentences[i].words)
        room -= cost


def _size(lines: list[Line], sentences: list[_Sentence], chosen: set[int]) -> int:
    return material_chars(_render(lines, sentences, chosen))


def _render(
    lines: list[Line], sentences: list[_Sentence], chosen: set[int]
) -> list[Line]:
    kept: dict[int, list[str]] = {}
    for i, sentence in enumerate(sentences):
        parts = kept.setdefault(sentence.line, [])
        if i in chosen:
            parts.append(sentence.text)
        elif not parts or parts[-1] != ELISION:
            parts.append(ELISION)
    out: list[Line] = []
    for number, line in enumerate(lines):
        parts = kept.get(number, [])
        if any(part != ELISION for part in parts):
            out.append(Line(line.label, " ".join(parts)))
        elif not out or out[-1] is not GAP:
            out.append(GAP)
    return out
