"""Safety-related talk in a session, found in code from a lexicon, and the note's risk
section written from it word for word, so no model decides what was said about risk."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from notewell.clinical.quotes import Utterance
from notewell.common.v1.common_pb2 import SpeakerRole

SUICIDAL_THOUGHTS = "suicidal thoughts"
SELF_HARM = "self-harm"
HARM_TO_OTHERS = "harm to others"
ABUSE = "abuse"
SUBSTANCE_RISK = "substance risk"

NOT_ASSESSED = (
    "Risk was not assessed in this session; no safety-related statements were made."
)

_APOSTROPHE = "['’]"
_NOT = rf"(?:don{_APOSTROPHE}?t|do not|didn{_APOSTROPHE}?t|did not|never)"

# Each category's phrases; whole words, any case.
_LEXICON: dict[str, str] = {
    SUICIDAL_THOUGHTS: (
        r"kill(?:ing|ed)? myself|end(?:ing)? (?:my|my own) life|end(?:ing)? it all|"
        r"take (?:my|my own) life|suicid\w*|better off dead|"
        rf"{_NOT} want to (?:be here|be alive|live|wake up|go on)|"
        r"wish (?:I|i) (?:was|were) dead|no reason to live|want(?:ed)? to die"
    ),
    SELF_HARM: (
        r"(?:hurt(?:ing|s)?|harm(?:ing|s|ed)?|cut(?:ting|s)?|burn(?:ing|s|ed|t)?) "
        r"myself|self[- ]?harm\w*|"
        r"(?:been|started|start|stop|stopped|keep|kept) cutting|cutting again|"
        r"cutting my (?:arms?|wrists?|legs?|skin)"
    ),
    HARM_TO_OTHERS: (
        r"(?:hurt|kill|harm|stab|strangle)(?:ing|s)? "
        r"(?:him|her|them|someone|somebody|anyone|anybody|people)|"
        r"(?<!non-)(?<!non )violen(?:t|ce)\w*"
    ),
    ABUSE: (
        r"(?:hit|hits|hitting|beat|beats|beating|kicked|kicks|choked|chokes) me|"
        r"(?<!substance )(?<!alcohol )(?<!drug )abus(?:e|ed|es|ing|ive)|"
        r"assault\w*|unsafe at home|rape[ds]?|molest\w*|"
        rf"{_NOT} feel safe (?:at home|with (?:him|her|them))"
    ),
    SUBSTANCE_RISK: (
        r"drinking (?:a lot|too much|heavily|every day|all day)|binge\w*|"
        r"black(?:ed|ing)? ?outs?|using again|relaps\w*|overdos\w*|heroin|meth|"
        r"(?:pop|popping|popped|party|too many|handful of|bunch of) (?:\w+ )?pills|"
        r"methamphetamine|cocaine|crack cocaine|fentanyl|opioids?|drunk driving|"
        r"driving (?:drunk|after drinking)|drink and drive|DUIs?|"
        r"(?:substance|alcohol|drug) abuse"
    ),
}
_CATEGORY = {
    name: re.compile(rf"(?<!\w)(?:{pattern})(?!\w)", re.IGNORECASE)
    for name, pattern in _LEXICON.items()
}
# Any category at all: most utterances need only this one search.
_ANY_CATEGORY = re.compile(
    rf"(?<!\w)(?:{'|'.join(_LEXICON.values())})(?!\w)", re.IGNORECASE
)

# A clinician asking about risk: the session assessed it, whatever the answer. Feeling
# safe counts when asked about as such, not about doing something ("safe trying that").
_SCREENING = re.compile(
    r"(?<!\w)(?:thoughts? (?:of|about) (?:suicide|killing yourself|ending your life|"
    r"hurting|harming|death|dying|self[- ]?harm)|(?:hurt|harm|kill)(?:ing)? yourself|"
    r"feel(?:ing)? safe(?=\s*(?:[?.!,]|$|at home|with\b|around\b|in your\b|right now|"
    r"tonight|going home|to go home))|safe at home|"
    r"(?:harm|hurt)(?:ing)? (?:someone|anyone|others|other people)|suicid\w*|"
    r"self[- ]?harm\w*|end(?:ing)? your (?:own )?life|"
    r"wish(?:ed)? you were dead)(?!\w)",
    re.IGNORECASE,
)
_SENTENCE = re.compile(r"[^.!?]*(?:[.!?]+|$)")
# How many utterances after a screening question the client's answer may come.
_ANSWER_WINDOW = 3


@dataclass(frozen=True)
class RiskMention:
    """One category of risk talk in one utterance; ``excerpt`` is its sentence as said."""

    category: str
    utterance_id: str
    role: int
    start_seconds: float
    excerpt: str


@dataclass(frozen=True)
class Screening:
    """A clinician's risk screening question (its sentence as said) and the client's
    answer that followed, if one did."""

    question_id: str
    question_seconds: float
    question_excerpt: str
    answer_id: str = ""
    answer_seconds: float = 0.0
    answer_excerpt: str = ""


@dataclass(frozen=True)
class RiskFindings:
    mentions: list[RiskMention]
    assessed: bool
    screenings: list[Screening] = field(default_factory=list)

    @property
    def discussed(self) -> bool:
        """Risk came up at all: mentioned by anyone or asked about."""
        return self.assessed or bool(self.mentions)


# Negation outside the lexicon phrase: "I'm not suicidal", "I never cut myself".
_NEGATED = re.compile(
    r"(?<!\w)(?:not|no|never|nor|nothing|cannot)(?!\w)|\wn['’]t(?!\w)", re.IGNORECASE
)


def affirms(mention: RiskMention) -> bool:
    """Whether ``mention``'s sentence states the risk rather than denies it: no
    negation in it besides any the lexicon phrase itself holds ("don't want to live")."""
    rest = _CATEGORY[mention.category].sub(" ", mention.excerpt)
    return not _NEGATED.search(rest)


def risk_language(text: str) -> bool:
    """Whether ``text`` names a kind of risk or asks a risk screening question."""
    return bool(_ANY_CATEGORY.search(text) or _SCREENING.search(text))


def find_risk(utterances: Sequence[Utterance]) -> RiskFindings:
    mentions: list[RiskMention] = []
    screenings: list[Screening] = []
    for position, u in enumerate(utterances):
        if u.role == SpeakerRole.SPEAKER_ROLE_CLINICIAN:
            asked = _SCREENING.search(u.text)
            if asked:
                screenings.append(_screening(utterances, position, asked))
                continue
        if not _ANY_CATEGORY.search(u.text):
            continue
        for category, pattern in _CATEGORY.items():
            match = pattern.search(u.text)
            if match:
                excerpt = _sentence_around(u.text, match.start(), match.end())
                mentions.append(
                    RiskMention(category, u.id, u.role, u.start_seconds, excerpt)
                )
    return RiskFindings(mentions, bool(screenings), screenings)


def _screening(
    utterances: Sequence[Utterance], position: int, asked: re.Match[str]
) -> Screening:
    question = utterances[position]
    excerpt = _sentence_around(question.text, asked.start(), asked.end())
    for u in utterances[position + 1 : position + 1 + _ANSWER_WINDOW]:
        if u.role == SpeakerRole.SPEAKER_ROLE_CLINICIAN:
            break
        if u.role == SpeakerRole.SPEAKER_ROLE_CLIENT and u.text.strip():
            answer = " ".join(u.text.split())
            return Screening(
                question.id,
                question.start_seconds,
                excerpt,
                u.id,
                u.start_seconds,
                answer,
            )
    return Screening(question.id, question.start_seconds, excerpt)


def _sentence_around(text: str, start: int, end: int) -> str:
    """The sentence(s) of ``text`` holding ``text[start:end]``, trimmed, verbatim."""
    first = last = None
    for sentence in _SENTENCE.finditer(text):
        if sentence.end() > start and first is None:
            first = sentence.start()
        if sentence.end() >= end:
            last = sentence.end()
            break
    return " ".join(text[first or 0 : last or len(text)].split())


def clock(seconds: float) -> str:
    """Minutes and seconds into the session, ``mm:ss``."""
    whole = max(int(seconds), 0)
    return f"{whole // 60:02d}:{whole % 60:02d}"


def risk_section(
    findings: RiskFindings,
    client_ref: str = "The client",
    clock: Callable[[float], str] = clock,
) -> tuple[str, list[str]]:
    """The risk section and the utterance ids it rests on, in the order said. Every
    line is a time and someone's own words; nothing is concluded from them."""
    if not findings.discussed:
        return NOT_ASSESSED, []

    # Questions, answers and mentions by utterance id: (seconds, line).
    events: dict[str, tuple[float, str]] = {}
    categories: dict[str, list[str]] = {}
    for m in findings.mentions:
        categories.setdefault(m.utterance_id, []).append(m.category)
        speaker = _speaker(m.role, client_ref)
        line = f"{clock(m.start_seconds)} {speaker} said: {_quoted(m.excerpt)}"
        events.setdefault(m.utterance_id, (m.start_seconds, line))
    for s in findings.screenings:
        asked = _quoted(s.question_excerpt)
        events[s.question_id] = (
            s.question_seconds,
            f"{clock(s.question_seconds)} The therapist asked: {asked}",
        )
        if s.answer_id:
            answer = _quoted(s.answer_excerpt)
            events[s.answer_id] = (
                s.answer_seconds,
                f"{clock(s.answer_seconds)} {client_ref} answered: {answer}",
            )

    if findings.assessed:
        lines = ["Risk was asked about in this session (verbatim):"]
    else:
        lines = ["Safety-related statements in this session (verbatim):"]
    ordered = sorted(events.items(), key=lambda item: item[1][0])
    for utterance_id, (_, line) in ordered:
        said = categories.get(utterance_id)
        lines.append(f"- {line} ({', '.join(said)})" if said else f"- {line}")
    if not findings.assessed:
        lines.append("No risk screening question was asked in this session.")
    return "\n".join(lines), [utterance_id for utterance_id, _ in ordered]


def _speaker(role: int, client_ref: str) -> str:
    if role == SpeakerRole.SPEAKER_ROLE_CLIENT:
        return client_ref
    if role == SpeakerRole.SPEAKER_ROLE_CLINICIAN:
        return "The therapist"
    return "Another speaker"


def _quoted(words: str) -> str:
    """``words`` in curly quotes; double quotes inside become single ones."""
    return "“" + re.sub(r"[“”\"]", "'", words) + "”"
