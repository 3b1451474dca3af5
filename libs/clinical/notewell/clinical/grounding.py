"""The checks every model-written text passes before a clinician sees it. Quotations must
be the speaker's own words; a sentence goes when it states a risk screen nobody did,
mental-status boilerplate nobody observed, a number the session and its context do
not hold, or a change of score its measure's scores in time order do not show. What
remains is split into statements, each with the evidence it rests on.

All of it is plain code over the transcript and the context items, deterministic and
quick enough to run on every draft."""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import pairwise

from notewell.clinical.instruments import instrument as catalogued
from notewell.clinical.numbers import INSTRUMENT, Figure, FigureSet, figures
from notewell.clinical.quotes import (
    Quotation,
    QuoteIndex,
    Utterance,
    find_quotations,
    limit_quotes,
    normalise,
    verify_quotes,
)
from notewell.clinical.risk import (
    HARM_TO_OTHERS,
    SELF_HARM,
    SUICIDAL_THOUGHTS,
    RiskFindings,
    affirms,
    clock,
    find_risk,
)
from notewell.common.v1.common_pb2 import SpeakerRole
from notewell.notes.v1.note_pb2 import Evidence, Statement

MEASURE_PREFIX = "measure:"
CLIENT = SpeakerRole.SPEAKER_ROLE_CLIENT

# A number after an instrument name, in the same clause, is read as that instrument's
# score however far it stands ("The PHQ-9, which ..., came to 4"); one before the name
# only when close ("scored 12 on the PHQ-9"). A severity label is its band when this
# close to the name.
_SCORE_BEFORE = 30
_LABEL_AFTER = 50
# A direction word ("improved") tells of a name at most this far from it.
_DIRECTION_REACH = 80
# In a measure item (notewell.clinical.measures): "PHQ-9 on <day>: 14 of 27 ...; 6 lower
# than at intake on <day> ...; 2 higher than on <day>".
_LATEST_SCORE = re.compile(r":\s*(\d+)\b")
_SCORE_CHANGE = re.compile(r"\b(\d+) (lower|higher) than\b")
_DATED_SCORE = re.compile(r"\b(\d{4}-\d{2}-\d{2}):\s*(\d+)\b")
_EARLIER_SCORE = re.compile(
    r"\b(?:(\d+) (lower|higher) than|the same as)"
    r"(?: at intake| at the previous administration)?(?: on (\d{4}-\d{2}-\d{2}))?"
)
# Severity bands as measure items name them; the longest first.
_SEVERITY = re.compile(
    r"\b(?:moderately severe|minimal|mild|moderate|severe)\b", re.IGNORECASE
)
# Between an instrument and a figure, these start another clause with its own subject.
_CLAUSE_BREAK = re.compile(
    r"[;(]|\b(?:while|whereas|but|although|though)\b|\band\b(?!\s+(?:\d|from\b))",
    re.IGNORECASE,
)

# A figure with a unit of its own counts or times something other than a score: "6
# hours", "2 weeks", "50 mg", "3 times", "session 5", "in 2025".
_UNIT_AFTER = re.compile(
    r"[\s-]*(?:hours?|hrs?|minutes?|mins?|seconds?|secs?|days?|nights?|weeks?|wks?|"
    r"months?|years?|yrs?|times|sessions?|visits?|appointments?|administrations?|"
    r"drinks?|beers?|glasses|cups?|cigarettes?|mg|milligrams?|mcg|ml|kg|kilos?|"
    r"kilograms?|lbs?|pounds?|miles?|km|steps|am|pm|a\.m\.|p\.m\.|o'clock|"
    r"children|kids|siblings|people|members|occasions|episodes)\b",
    re.IGNORECASE,
)
_UNIT_BEFORE = re.compile(
    r"\b(?:item|question|session|week|day|month|year|age|aged|step|module|page|"
    r"grade|room|number|no\.)\s*#?$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?:19|20)\d\d")
# A verb of movement before "up" or "down": "went down", "is coming up".
_MOVED = r"(?:went|gone|go|goes|going|came|come|comes|coming)\s+"
# "a score of ", as written before a figure.
_SCORE_OF = r"(?:(?:a|an|the)\s+)?(?:(?:total\s+)?score\s+of\s+)?"
# Words saying which way a score went. "Improved" and "worsened" read by whether a lower
# score is better for the instrument; the others say the direction itself.
_DIRECTION = re.compile(
    r"\b(?:(?P<better>improv(?:e|es|ed|ing|ement|ements))"
    r"|(?P<worse>worsen(?:s|ed|ing)?|worse|deteriorat(?:e|es|ed|ing|ion))"
    r"|(?P<down>decreas(?:e|es|ed|ing)|declin(?:e|es|ed|ing)|reduc(?:ed|ing|tion)|"
    r"drop(?:s|ped|ping)?(?!\s+(?:out|off|in)\b)|dipped|fell|fallen|lowered|"
    rf"{_MOVED}down|"
    r"down(?=\s+(?:from|to|by)\b))"
    r"|(?P<up>increas(?:e|es|ed|ing)|(?-i:rose)|ris(?:e|es|en|ing)|"
    r"climb(?:s|ed|ing)?|spiked|jumped|"
    rf"{_MOVED}up|"
    r"up(?=\s+(?:from|to|by)\b)))\b(?!\s+asleep)",
    re.IGNORECASE,
)
# What may stand between an instrument's name and the direction word that tells of its
# score ("The PHQ-9 total has steadily decreased", "PHQ-9 showed a reliable
# improvement"), and between a direction word and the name it concerns ("a drop in the
# PHQ-9"). With other words between, the direction word is about something else.
_DIRECTION_AFTER_NAME = re.compile(
    r"(?:[\s,]|'s\b|\b(?:scores?|totals?|results?|has|have|had|was|were|is|are|been|"
    r"also|further|then|now|since|steadily|significantly|slightly|markedly|sharply|"
    r"considerably|substantially|modestly|clearly|again|both|only|showed|shows|show|"
    r"a|an|the|"
    r"reliable|reliably|clinically|significant|meaningful|notable|marked|slight|"
    r"modest|small|large|continued|continues|to|in|on|of|which)\b)*",
    re.IGNORECASE,
)
_DIRECTION_BEFORE_NAME = re.compile(
    r"\s+(?:in|on|of|across)\s+(?:(?:the|her|his|their|client's|total|score)\s+)*",
    re.IGNORECASE,
)
_NEGATED = re.compile(
    r"(?:\b(?:not|no|never|neither|nor|without)\b|n't)[^,;]{0,25}$", re.IGNORECASE
)
# "from 18 to 12", "from 20 at intake to 14", "18 → 12": a change in time order.
_FROM = re.compile(rf"\bfrom\s+{_SCORE_OF}$", re.IGNORECASE)
_TO = re.compile(
    rf"(?:\s+points?)?(?:\s+[^\W\d]+){{0,4}}?\s+to\s+{_SCORE_OF}", re.IGNORECASE
)
_ARROW = re.compile(r"\s*(?:→|->|⟶)\s*")
# Right after a direction word: "fell to 12", "improved from 18".
_TO_OR_FROM = re.compile(rf"\s+(?P<way>to|from)\s+{_SCORE_OF}", re.IGNORECASE)

# What a risk claim is about. A claim's parts stand at most 120 characters apart, which
# also keeps the search over a long unpunctuated sentence linear.
_HARM_TOPIC = (
    r"SI|HI|suicid\w*|homicid\w*|self[- ]?harm\w*|"
    r"thoughts? (?:of|about) (?:harm\w*|hurt\w*|kill\w*|suicide|death|dying|ending)|"
    r"(?:suicidal |homicidal )(?:intent|plans?)|(?:intent|plans?) to (?:harm|hurt|kill)|"
    r"safety concerns"
)
# Statements that a screen found no risk (or little): they need the session to have
# asked, and no one to have said otherwise.
_RISK_DENIALS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bden(?:y|ies|ied|ying)\b[^.;]{0,120}?" rf"\b(?:{_HARM_TOPIC})\b",
        r"\bno (?:current |active |passive |acute )?(?:SI|HI|suicid\w*|homicid\w*|"
        r"self[- ]?harm\w*|safety concerns|risk (?:factors|concerns|indicators)|"
        r"(?:evidence|indications?|signs?) of (?:risk|danger|self[- ]?harm|harm))\b",
        r"\bno (?:\w+ )?thoughts? (?:of|about) (?:harm\w*|hurt\w*|kill\w*|suicide|"
        r"death|dying|ending)",
        r"\bnegative for (?:SI|HI|suicid\w*|homicid\w*|self[- ]?harm\w*)\b",
        r"\bnot (?:an? )?(?:imminent |immediate |acute |current )?(?:danger|risk|threat) "
        r"to (?:self|him\w*|her\w*|them\w*|others)\b",
        r"\bnot (?:at|in) (?:\w+ )?(?:risk|danger)\b",
        r"\bnot (?:actively |currently |passively )?(?:suicidal|homicidal)\b",
        r"\b(?:did not|didn't|does not|doesn't|never) (?:endorse|report|express|voice|"
        r"disclose|indicate|describe|mention|acknowledge)\w*\b[^.;]{0,120}?"
        rf"\b(?:{_HARM_TOPIC})\b",
        r"\b(?:SI|HI|suicidal ideation|homicidal ideation|suicidal thoughts|"
        r"self[- ]?harm)\b[^.;]{0,120}?\b(?:was|were|is|are) (?:denied|negative|absent|"
        r"not (?:reported|endorsed|present))\b",
        r"\b(?:SI|HI|risk(?: level)?|suicid\w*|homicid\w*|self[- ]?harm|safety"
        r"(?: concerns)?)(?:\s*/\s*(?:SI|HI))?\s*[:=–-]\s*(?:den\w*|none|no\b|neg\b|"
        r"negative|low|minimal|absent)",
        r"\bno (?:\w+ )?(?:intent|plans?) to (?:harm|hurt|kill)",
        r"\bno (?:known |prior |previous )?history of (?:suicid\w*|self[- ]?harm\w*|"
        r"violence|harm\w*)",
        r"\bC-?SSRS\b[^.;]{0,40}?\b(?:negative|low|none)\b|\bnegative C-?SSRS\b",
        r"\b(?:client|patient|she|he|they) (?:is|was|are|were|appears?|appeared|"
        r"deemed|remains?|remained) (?:currently )?safe"
        r"(?=\s*(?:[.!;,]|$|to (?:self|others)))",
        r"\bfeel(?:s|ing)? safe (?:at home|with)\b",
        r"\brisk (?:assessment|screen\w*|level)\b[^.;]{0,120}?"
        r"\b(?:negative|low|minimal|none|unremarkable)\b",
        r"\b(?:low|minimal|no) (?:acute |imminent |current |immediate )?"
        r"(?:(?:suicide|suicidal|safety|violence|self[- ]?harm) risk\b|"
        r"risk (?:of|for|to) (?:harm|suicide|self|violence|danger|others)\b|"
        r"risk\s*[.!]?$)",
        r"\brisk (?:is|was|appears|appeared|remains|deemed|assessed as) "
        r"(?:low|minimal|none)\b",
    )
]
# Safety work that needs the session to have asked about risk.
_SAFETY_ACTIONS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\bsafety plan\b[^.;]{0,120}?\b(?:reviewed|updated|completed|in place|discussed|"
        r"created|developed)\b",
        r"\bcontract(?:ed|s)? for safety\b",
    )
]
_RISK_CLAIMS = _RISK_DENIALS + _SAFETY_ACTIONS

# Letters from other scripts that look like Latin ones, and invisible characters: a
# claim written with them is read as if written plainly.
_LOOKALIKES = str.maketrans(
    "аеорсухіѕјԁӏАВЕКМНОРСТХІЅΑΒΕΖΗΙΚΜΝΟΡΤΧαιονυ",
    "aeopcyxisjdlABEKMHOPCTXISABEZHIKMNOPTXaiovu",
)
_INVISIBLE = re.compile(r"[\u00ad\u200b-\u200f\u2060-\u2064\ufeff]")
_DOTTED_ABBREVIATION = re.compile(r"\b([SH])\.\s?I\.", re.IGNORECASE)

# A claim with these words concerns harm to self or others, not risk in general.
_HARM_WORDS = re.compile(
    r"\b(?:SI|HI|suicid\w*|homicid\w*|self[- ]?harm\w*|harm\w*|hurt\w*|kill\w*|"
    r"self|others|death|dying)\b",
    re.IGNORECASE,
)
_HARM_CATEGORIES = frozenset({SUICIDAL_THOUGHTS, SELF_HARM, HARM_TO_OTHERS})

_DEFAULT_FINDINGS = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"\balert and oriented(?: ?[x×] ?\d| to (?:person|place|time|situation)"
        r"(?:(?:, | and |, and )(?:person|place|time|situation))*)?",
        r"\bA ?& ?O ?[x×] ?\d\b",
        r"\bAAO ?[x×] ?\d\b",
        r"\boriented ?[x×] ?\d\b",
        r"\boriented (?:to|in) (?:all|three|four|3|4) (?:spheres|domains)\b",
        r"\b(?:linear|logical|coherent),? and goal[- ]directed\b",
        r"\bthought process(?:es)?(?: was| were| is| are|:)? goal[- ]directed\b",
        r"\bthought (?:process|content)(?:es)?(?: was| were| is| are| appeared|:)? "
        r"(?:within normal limits|WNL|unremarkable|intact|normal|logical|linear|"
        r"organi[sz]ed)\b",
        r"\bwithin normal limits\b",
        r"\bWNL\b",
        r"\b(?:appropriate|good|adequate|fair|normal) (?:hygiene|grooming)\b",
        r"\b(?:hygiene|grooming)(?: was| were| is| are|:)? "
        r"(?:appropriate|good|adequate)\b",
        r"\b(?:well|appropriately|neatly|adequately)[- ]groomed\b",
        r"\b(?:appropriately|casually|neatly|adequately) (?:dressed|attired)\b",
        r"\bdressed (?:appropriately|casually|neatly)\b",
        r"\b(?:normal|regular|clear|coherent) speech\b",
        r"\bspeech(?: was| is|:)? (?:normal|clear|coherent|regular|unremarkable)\b",
        r"\b(?:good|fair|intact|adequate) insight(?: and judge?ment)?\b",
        r"\b(?:good|fair|intact|adequate) judge?ment\b",
        r"\binsight and judge?ment (?:were |are |was |is )?"
        r"(?:good|intact|fair|adequate)\b",
        r"\b(?:insight|judge?ment)(?: was| is|:) (?:good|fair|intact|adequate|poor|"
        r"limited|impaired)\b",
        r"\baffect(?: was| is| appeared|:)? (?:congruent|appropriate|full(?:[- ]range)?|"
        r"broad|reactive|euthymic)\b",
        r"\b(?:mood[- ])?(?:congruent|full[- ]range|broad|reactive) affect\b",
        r"\bmood and affect(?: were| are|:)? (?:congruent|appropriate)\b",
        r"\b(?:good|appropriate|adequate|normal|fair) eye contact\b",
        r"\beye contact(?: was| is|:)? (?:good|appropriate|adequate|normal|fair)\b",
        r"\beuthymic\b",
        r"\b(?:no|denies|denied) (?:AH/VH|AVH|hallucinations|delusions|"
        r"perceptual disturbances|psychotic symptoms)\b",
        r"\bno (?:evidence|signs?|indications?) of (?:psychosis|psychotic\w*|mania|"
        r"thought disorder|cognitive impairment)",
        r"\bmemory (?:was |is )?intact\b",
    )
]

_LIST_ITEM = re.compile(r"^\s*(?:[-*•–]|\d+[.)])\s+")
_SENTENCE_BREAK = re.compile(r"[.!?]+[”\"’')\]]*\s+(?=[“\"‘'(\[]?[A-Z0-9])")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Dr|Mr|Mrs|Ms|Mx|St|vs|etc|approx|e\.g|i\.e|cf|pt|min|hr)|\b[A-Z])\.\s+$",
    re.IGNORECASE,
)
_COMMON_WORDS = (
    "a an and are as at be been but by did do does for from had has have he her him "
    "his i if in is it its me my of on or our she so that the their them they this "
    "to was we were what when which who will with you your client therapist session "
    "said reported stated about also not no just like"
)
_STOPWORDS = frozenset(_COMMON_WORDS.split())


@dataclass(frozen=True)
class CheckReport:
    """Counts only; what was removed is never reported. ``removed_statements`` counts
    every sentence removed, each also counted under the first rule it broke."""

    removed_quotes: int = 0
    removed_statements: int = 0
    removed_numbers: int = 0
    removed_risk_claims: int = 0
    removed_default_findings: int = 0

    def __add__(self, other: CheckReport) -> CheckReport:
        return CheckReport(
            self.removed_quotes + other.removed_quotes,
            self.removed_statements + other.removed_statements,
            self.removed_numbers + other.removed_numbers,
            self.removed_risk_claims + other.removed_risk_claims,
            self.removed_default_findings + other.removed_default_findings,
        )


@dataclass(frozen=True)
class CheckedText:
    """The text that passed, and the same text statement by statement: sentences of a
    line joined by a space and lines by a newline give ``text`` back."""

    text: str
    statements: list[Statement]
    report: CheckReport


class GroundingSource:
    """What a note may rest on: the transcript and the context items (id -> plain text,
    such as "measure:PHQ-9", "note:<id>" or "session"). Build once per note; every
    ``check_text`` call reuses its indexes."""

    def __init__(
        self, utterances: Sequence[Utterance], context_items: Mapping[str, str]
    ) -> None:
        self.utterances = list(utterances)
        self.context_items = dict(context_items)
        self.quotes = QuoteIndex(self.utterances, self.context_items)
        self._utterance_by_id = {u.id: u for u in self.utterances if u.id}

    def utterance(self, utterance_id: str) -> Utterance | None:
        return self._utterance_by_id.get(utterance_id)

    @cached_property
    def risk(self) -> RiskFindings:
        return find_risk(self.utterances)

    @cached_property
    def known_figures(self) -> FigureSet:
        """Every figure said or given in context, and each utterance's clock time."""
        known = FigureSet(set(), set(), {clock(u.start_seconds) for u in self.utterances})
        texts = [u.text for u in self.utterances] + list(self.context_items.values())
        # One pass over all texts; the separator keeps "5 ... of 6" from pairing
        # figures of two texts.
        known.update(FigureSet.of(" ¦ ".join(texts)))
        return known

    @cached_property
    def instrument_figures(self) -> dict[str, FigureSet]:
        """Figures of each measure context item, by instrument code (letters, digits)."""
        return {
            _code(key[len(MEASURE_PREFIX) :]): _measure_figures(text)
            for key, text in self.context_items.items()
            if key.startswith(MEASURE_PREFIX)
        }

    @cached_property
    def instrument_series(self) -> dict[str, list[int]]:
        """The scores of each measure context item in time order, oldest first, by
        instrument code."""
        return {
            _code(key[len(MEASURE_PREFIX) :]): _measure_series(text)
            for key, text in self.context_items.items()
            if key.startswith(MEASURE_PREFIX)
        }

    @cached_property
    def instrument_labels(self) -> dict[str, frozenset[str]]:
        """The severity labels each measure context item gives, by instrument code."""
        return {
            _code(key[len(MEASURE_PREFIX) :]): frozenset(
                m.group(0).lower() for m in _SEVERITY.finditer(text)
            )
            for key, text in self.context_items.items()
            if key.startswith(MEASURE_PREFIX)
        }

    @cached_property
    def content_words(self) -> dict[str, frozenset[str]]:
        words = {u.id: _content_words(u.text) for u in self.utterances if u.id}
        words.update({key: _content_words(t) for key, t in self.context_items.items()})
        return words


def _measure_figures(text: str) -> FigureSet:
    """The scores of a measure item, and the earlier scores its differences imply:
    "14 of 27; 6 lower than at intake" holds 14 and an intake score of 20, but not 27,
    the most the scale allows."""
    held = FigureSet.of(text)
    held.values = {f.value for f in figures(text) if f.value}
    held.values.update(pair[0] for pair in held.pairs)
    latest = _LATEST_SCORE.search(text)
    if latest:
        score = int(latest.group(1))
        for m in _SCORE_CHANGE.finditer(text):
            change = int(m.group(1))
            held.values.add(
                str(score + change if m.group(2) == "lower" else score - change)
            )
    return held


def _measure_series(text: str) -> list[int]:
    """The scores of a measure item in time order: each dated score ("on 2026-11-30:
    14"), and the earlier ones its differences from the first dated score imply ("6
    lower than at intake on 2026-09-01" is 20 then). Without a dated score, none."""
    dated = list(_DATED_SCORE.finditer(text))
    if not dated:
        return []
    latest_day, latest = dated[0].group(1), int(dated[0].group(2))
    # (day, 1 for a dated score or 0 for an earlier one implied, score): an earlier
    # score with no day of its own comes just before the score it differs from.
    points = {(m.group(1), 1, int(m.group(2))) for m in dated}
    for m in _EARLIER_SCORE.finditer(text):
        change = int(m.group(1)) if m.group(1) else 0
        earlier = latest + change if m.group(2) == "lower" else latest - change
        points.add((m.group(3) or latest_day, 0, earlier))
    return [score for _, _, score in sorted(points)]


def check_text(
    text: str,
    source: GroundingSource,
    *,
    client_words: Iterable[str],
    clinician_words: Iterable[str],
    cited_utterance_ids: Iterable[str] = (),
    cited_context_ids: Iterable[str] = (),
    max_quotes: int | None = None,
    risk_found: RiskFindings | None = None,
) -> CheckedText:
    """``text`` with what its sources do not support removed, as statements with
    evidence. Quotations are checked against the whole transcript and the context
    items, and so are figures: a number must occur somewhere in the session or its
    context (the cited ids choose evidence, not what may be said), while a score in the
    clause of an instrument name must be one its "measure:" item holds, and a change
    said of it ("from 18 to 12", "improved") must be one those scores show in time
    order. ``risk_found`` defaults
    to what ``find_risk`` finds in the source."""
    text, removed_quotes = verify_quotes(
        text, source.quotes, client_words, clinician_words
    )
    text = limit_quotes(text, max_quotes)
    risk = risk_found if risk_found is not None else source.risk

    cited_utterances = _known(cited_utterance_ids, source._utterance_by_id)
    cited_context = _known(cited_context_ids, source.context_items)
    counts = {"numbers": 0, "risk": 0, "default": 0}
    lines: list[list[Statement]] = []
    for line in text.splitlines():
        kept: list[Statement] = []
        for sentence in _statements(line):
            broken = _broken_rule(sentence, source, risk)
            if broken:
                counts[broken] += 1
                continue
            evidence = _evidence(sentence, source, cited_utterances, cited_context)
            kept.append(Statement(text=sentence, evidence=evidence))
        if kept:
            lines.append(kept)

    checked = "\n".join(" ".join(s.text for s in line) for line in lines)
    report = CheckReport(
        removed_quotes=removed_quotes,
        removed_statements=sum(counts.values()),
        removed_numbers=counts["numbers"],
        removed_risk_claims=counts["risk"],
        removed_default_findings=counts["default"],
    )
    return CheckedText(checked, [s for line in lines for s in line], report)


def split_statements(text: str) -> list[str]:
    """The sentences of ``text``; a list item or a line stays whole or splits only at
    sentence ends within it."""
    return [s for line in text.splitlines() for s in _statements(line)]


def _statements(line: str) -> list[str]:
    line = line.strip()
    if not line:
        return []
    if _LIST_ITEM.match(line):
        return [line]

    # Sentence ends inside quotations do not split; the quotation's own end may.
    masked = list(line)
    for q in find_quotations(line):
        masked[q.start + 1 : q.end - 2] = "x" * max(q.end - q.start - 3, 0)
    masked_line = "".join(masked)

    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_BREAK.finditer(masked_line):
        if _ABBREVIATION.search(masked_line[start : m.end()]):
            continue
        pieces.append(line[start : m.end()].strip())
        start = m.end()
    pieces.append(line[start:].strip())
    return [p for p in pieces if p]


def _broken_rule(sentence: str, source: GroundingSource, risk: RiskFindings) -> str:
    """The first rule ``sentence`` breaks ("risk", "default", "numbers"), or "".
    Words inside its quotations are somebody's own and state no finding."""
    quoted = find_quotations(sentence)
    if quoted:
        sentence = _mask(sentence, quoted)
    plain = _plain_letters(sentence)
    if _unsupported_risk_claim(plain, risk):
        return "risk"
    for pattern in _DEFAULT_FINDINGS:
        for m in pattern.finditer(plain):
            phrase = m.group(0)
            if not source.quotes.spoken(phrase) and not source.quotes.find_extra(phrase):
                return "default"
    unlisted = _LIST_ITEM.sub("", sentence)
    if not _numbers_supported(unlisted, source) or not _labels_supported(
        unlisted, source
    ):
        return "numbers"
    return ""


def _plain_letters(text: str) -> str:
    """``text`` with lookalike letters as Latin ones, invisible characters gone and
    "S.I." written "SI", for reading claims however they are spelled."""
    text = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    return _DOTTED_ABBREVIATION.sub(r"\1I", text.translate(_LOOKALIKES))


def _unsupported_risk_claim(sentence: str, risk: RiskFindings) -> bool:
    """A risk screen result stands only when the session asked about risk, or when
    someone spoke about the kind of risk it concerns: harm to self or others for a
    claim about those, any kind for a general one. A claim that a screen found no risk
    goes, asked or not, when the client spoke of harm to self or others without
    negating it."""
    denial = any(p.search(sentence) for p in _RISK_DENIALS)
    if not denial and not any(p.search(sentence) for p in _SAFETY_ACTIONS):
        return False
    about_harm = bool(_HARM_WORDS.search(sentence))
    if denial and any(
        m.role == CLIENT and m.category in _HARM_CATEGORIES and affirms(m)
        for m in risk.mentions
    ):
        return True
    if risk.assessed:
        return False
    spoken = {m.category for m in risk.mentions}
    if about_harm:
        return not spoken & _HARM_CATEGORIES
    return not spoken


def _numbers_supported(sentence: str, source: GroundingSource) -> bool:
    """Every figure of ``sentence`` must be held: a score by its instrument's measure
    item, any other figure by the session or its context; and what the sentence says of
    a score's change must agree with the item's scores in time order."""
    names = _Names(sentence)
    scores: dict[int, tuple[Figure, str]] = {}
    for figure in figures(sentence):
        instrument = None
        if not _counts_something_else(sentence, figure):
            instrument = names.nearest(figure.start)
        if instrument is not None:
            held = source.instrument_figures.get(instrument)
            if held is None or not held.holds(figure):
                return False
            scores[figure.start] = (figure, instrument)
        elif not source.known_figures.holds(figure):
            return False
    return _trends_supported(sentence, source, names, scores)


def _counts_something_else(sentence: str, figure: Figure) -> bool:
    """Whether ``figure`` is a date, a clock time, a year or a figure with a unit of its
    own, so no instrument's score."""
    if figure.exact or (figure.value and _YEAR.fullmatch(figure.value)):
        return True
    if figure.end >= 0 and _UNIT_AFTER.match(sentence, figure.end):
        return True
    return bool(_UNIT_BEFORE.search(sentence, max(figure.start - 12, 0), figure.start))


def _trends_supported(
    sentence: str,
    source: GroundingSource,
    names: _Names,
    scores: dict[int, tuple[Figure, str]],
) -> bool:
    """A change stated of an instrument's score must be one its measure item shows, in
    time order: "from 12 to 18" needs a 12 before an 18, and a direction word
    ("improved", "fell", "rose", "went up") needs the change it tells of to go that
    way: the change written beside it, else one to or from the score written after it,
    else the change since the first score or since the one before the latest."""
    changes: dict[str, list[tuple[int, int]]] = {}
    for (first, code), (second, code2) in pairwise(scores.values()):
        if code != code2 or not _is_change(sentence, first, second):
            continue
        before, after = _score(first), _score(second)
        series = source.instrument_series.get(code, [])
        if before is None or after is None:
            continue
        if not _in_order(series, before, after):
            return False
        changes.setdefault(code, []).append((before, after))

    for m in _DIRECTION.finditer(sentence):
        if _NEGATED.search(sentence, max(m.start() - 40, 0), m.start()):
            continue
        code = _direction_instrument(sentence, m, names)
        # A name neither catalogued nor given a measure item may be no instrument.
        if code is None or (
            code not in source.instrument_series and catalogued(code) is None
        ):
            continue
        way = _direction(m, code)
        if way == 0:
            continue
        if code in changes:
            if any(_sign(after - before) != way for before, after in changes[code]):
                return False
            continue
        series = source.instrument_series.get(code, [])
        if not any(
            _sign(series[j] - series[i]) == way
            for i, j in _pairs_meant(sentence, m.end(), series, scores, code)
        ):
            return False
    return True


def _is_change(sentence: str, first: Figure, second: Figure) -> bool:
    """Whether two figures read "from <first> to <second>" or "<first> → <second>"."""
    between = sentence[first.end : second.start]
    if _ARROW.fullmatch(between):
        return True
    return bool(
        _FROM.search(sentence, max(first.start - 40, 0), first.start)
        and _TO.fullmatch(between)
    )


def _in_order(series: list[int], before: int, after: int) -> bool:
    return any(
        series[i] == before and after in series[i + 1 :] for i in range(len(series))
    )


def _pairs_meant(
    sentence: str,
    position: int,
    series: list[int],
    scores: dict[int, tuple[Figure, str]],
    code: str,
) -> list[tuple[int, int]]:
    """The changes (as index pairs into ``series``) a direction word ending at
    ``position`` may be about: to or from the score written right after it, else the
    change since the first score and since the one before the latest."""
    last = len(series) - 1
    after = _TO_OR_FROM.match(sentence, position)
    figure, scored = scores.get(after.end(), (None, "")) if after else (None, "")
    if after and figure is not None and scored == code:
        value = _score(figure)
        if after.group("way") == "to":
            return [
                pair
                for j in range(1, last + 1)
                if series[j] == value
                for pair in ((0, j), (j - 1, j))
            ]
        return [(i, last) for i in range(last) if series[i] == value]
    return [(0, last), (last - 1, last)] if last > 0 else []


def _direction_instrument(
    sentence: str, word: re.Match[str], names: _Names
) -> str | None:
    """The instrument a direction word tells of: the nearest name before it with only
    such words as "score has" between, else the next name after it with only such
    words as "in the" between ("a drop in the PHQ-9")."""
    i = names.before(word.start())
    if i is not None:
        end = names.ends[i]
        if word.start() - end <= _DIRECTION_REACH and _DIRECTION_AFTER_NAME.fullmatch(
            sentence, end, word.start()
        ):
            return names.codes[i]
    j = names.after(word.end())
    if j is not None:
        start = names.starts[j]
        if start - word.end() <= _DIRECTION_REACH and _DIRECTION_BEFORE_NAME.fullmatch(
            sentence, word.end(), start
        ):
            return names.codes[j]
    return None


def _direction(word: re.Match[str], code: str) -> int:
    """+1 for a word telling of a higher score, -1 for a lower one, 0 when it cannot be
    told: "improved" of an instrument whose better end is not known."""
    if word.group("up"):
        return 1
    if word.group("down"):
        return -1
    known = catalogued(code)
    if known is None:
        return 0
    better = -1 if known.lower_is_better else 1
    return better if word.group("better") else -better


def _score(figure: Figure) -> int | None:
    """A figure as a score: "14" and "14 of 27" are 14."""
    text = figure.value or (figure.pair[0] if figure.pair else "")
    return int(text) if text.isdigit() else None


def _sign(number: int) -> int:
    return (number > 0) - (number < 0)


def _labels_supported(sentence: str, source: GroundingSource) -> bool:
    """A severity label standing by an instrument name must be one its measure item
    gives: "PHQ-9 of 14 (severe)" goes when the item says "(moderate)". A label in
    brackets belongs to the score before it."""
    labels = list(_SEVERITY.finditer(sentence))
    if not labels:
        return True
    names = _Names(sentence.replace("(", " "))
    for label in labels:
        instrument = names.nearest(label.start(), after_limit=_LABEL_AFTER)
        if instrument is None:
            continue
        given = source.instrument_labels.get(instrument, frozenset())
        if label.group(0).lower() not in given:
            return False
    return True


def _mask(text: str, quotations: list[Quotation]) -> str:
    """``text`` with the words of each quotation blanked out."""
    chars = list(text)
    for q in quotations:
        chars[q.start + 1 : q.end - 1] = " " * (q.end - q.start - 2)
    return "".join(chars)


class _Names:
    """The instrument names of a sentence and where its clauses break, for finding the
    name a figure or word belongs to in time logarithmic in their number."""

    def __init__(self, sentence: str) -> None:
        found = [
            (m.start(), m.end(), _code(m.group(0))) for m in INSTRUMENT.finditer(sentence)
        ]
        self.starts = [start for start, _, _ in found]
        self.ends = [end for _, end, _ in found]
        self.codes = [code for _, _, code in found]
        self.breaks = [m.start() for m in _CLAUSE_BREAK.finditer(sentence)]

    def before(self, position: int) -> int | None:
        """The index of the last name ending at or before ``position``."""
        i = bisect_right(self.ends, position) - 1
        return i if i >= 0 else None

    def after(self, position: int) -> int | None:
        """The index of the first name starting at or after ``position``."""
        i = bisect_left(self.starts, position)
        return i if i < len(self.starts) else None

    def one_clause(self, start: int, end: int) -> bool:
        """Whether no clause break starts in ``start`` up to ``end``."""
        return bisect_left(self.breaks, start) == bisect_left(self.breaks, end)

    def nearest(self, position: int, after_limit: int | None = None) -> str | None:
        """The instrument whose score a figure starting at ``position`` reads as: the
        nearest name in the same clause, either one before the figure (within
        ``after_limit`` characters of it when given) or one at most ``_SCORE_BEFORE``
        characters after it; on a tie, the one after."""
        candidates: list[tuple[int, str]] = []
        i = self.before(position)
        if i is not None:
            end = self.ends[i]
            near = after_limit is None or position - end <= after_limit
            if near and self.one_clause(end, position):
                candidates.append((position - end + 1, self.codes[i]))
        j = self.after(position)
        if j is not None:
            start = self.starts[j]
            if start - position <= _SCORE_BEFORE and self.one_clause(position, start):
                candidates.append((start - position, self.codes[j]))
        return min(candidates)[1] if candidates else None


def _evidence(
    sentence: str,
    source: GroundingSource,
    cited_utterances: list[str],
    cited_context: list[str],
) -> Evidence:
    """The cited utterance or context item sharing most words with ``sentence`` (ties go
    to the first cited), plus the utterances its quotations come from; with no overlap
    and no quotation, everything cited."""
    utterance_ids: dict[str, None] = {}
    for q in find_quotations(sentence):
        spoken = source.quotes.find(q.words)
        within = [u for u in spoken if u.id in cited_utterances] or spoken[:1]
        utterance_ids.update((u.id, None) for u in within if u.id)

    words = _content_words(sentence)
    best_id, best_overlap = "", 0
    for candidate in cited_utterances + cited_context:
        overlap = len(words & source.content_words.get(candidate, frozenset()))
        if overlap > best_overlap:
            best_id, best_overlap = candidate, overlap

    context_ids: list[str] = []
    if best_id in source.context_items:
        context_ids.append(best_id)
    elif best_id:
        utterance_ids.setdefault(best_id, None)
    elif not utterance_ids:
        return Evidence(utterance_ids=cited_utterances, context_ids=cited_context)
    return Evidence(utterance_ids=list(utterance_ids), context_ids=context_ids)


def _known(cited: Iterable[str], known: Mapping[str, object]) -> list[str]:
    """The cited ids that exist, first mention first, each once."""
    seen: dict[str, None] = {}
    for raw in cited:
        key = raw.strip().strip("[]")
        if key in known:
            seen.setdefault(key, None)
    return list(seen)


def _content_words(text: str) -> frozenset[str]:
    return frozenset(
        w for w in normalise(text).split() if len(w) > 2 and w not in _STOPWORDS
    )


def _code(name: str) -> str:
    """An instrument name as upper-case letters and digits: "PHQ-9" -> "PHQ9"."""
    return re.sub(r"[^A-Z0-9]", "", name.upper())
