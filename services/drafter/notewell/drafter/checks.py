"""Checks every draft passes before anyone sees it, by the shared grounding library:
evidence must exist, quotations must be the speaker's own words and no more of them
than the clinician wants, sentences the session does not support go (risk screens
nobody did, boilerplate nobody observed, numbers nobody gave), and an emptied
section says so instead of being filled in. The Safety section is written here, in
code, from the risk findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from notewell.clinical import grounding, quotes, risk
from notewell.common.v1.common_pb2 import Transcript
from notewell.drafter.context import DraftContext
from notewell.drafter.evidence import known_ids, transcript_ids
from notewell.drafter.formats import (
    NOT_ADDRESSED,
    SAFETY_KEY,
    SESSION_KEY,
    Section,
    Statement,
)
from notewell.drafter.voice import Voice
from notewell.notes.v1.note_pb2 import Statement as StatementProto

SAFETY_TITLE = "Safety"
# Words by which a sentence names the therapist; the client's come from the voice.
CLINICIAN_WORDS = ("the therapist", "therapist", "the clinician", "clinician")


@dataclass(frozen=True)
class CheckReport:
    """Counts only; what was removed is never reported."""

    dropped_ids: int = 0
    removed_quotes: int = 0
    removed_statements: int = 0
    emptied_sections: int = 0


def check_note(
    sections: Sequence[Section],
    transcript: Transcript,
    context: DraftContext,
    voice: Voice,
    max_quotes: int | None,
    session_facts: str = "",
) -> tuple[list[Section], CheckReport]:
    """The model's sections, checked. ``max_quotes`` counts over the whole note, in
    section order; quotations past it keep their words without marks. The session
    facts count as a source, so a note may give the session's date and length."""
    items = {item.id: item.text for item in context.items}
    if session_facts:
        items[SESSION_KEY] = session_facts
    source = grounding.GroundingSource(list(transcript.utterances), items)
    known = transcript_ids(transcript)
    offered = frozenset(context.ids)
    client_words = client_words_of(voice)
    clinician_words = clinician_words_of(voice)

    checked: list[Section] = []
    dropped = removed_quotes = removed_statements = emptied = 0
    quotes_left = max_quotes
    for section in sections:
        ids = known_ids(section.utterance_ids, known)
        contexts = known_ids(section.context_ids, offered)
        dropped += len(section.utterance_ids) - len(ids)
        dropped += len(section.context_ids) - len(contexts)
        result = grounding.check_text(
            section.text,
            source,
            client_words=client_words,
            clinician_words=clinician_words,
            cited_utterance_ids=ids,
            cited_context_ids=contexts,
            max_quotes=quotes_left,
            risk_found=source.risk,
        )
        removed_quotes += result.report.removed_quotes
        removed_statements += result.report.removed_statements
        if quotes_left is not None:
            quotes_left = max(quotes_left - len(quotes.find_quotations(result.text)), 0)
        statements = tuple(_statement(s, offered) for s in result.statements)
        if not quotes.normalise(result.text):
            emptied += 1
            checked.append(Section(section.key, section.title, NOT_ADDRESSED))
            continue
        checked.append(
            Section(
                section.key,
                section.title,
                result.text,
                _union(ids, (i for s in statements for i in s.utterance_ids)),
                _union(contexts, (i for s in statements for i in s.context_ids)),
                statements,
            )
        )
    report = CheckReport(dropped, removed_quotes, removed_statements, emptied)
    return checked, report


def check_extractive(
    sections: Sequence[Section], transcript: Transcript, voice: Voice
) -> list[Section]:
    """The extractive draft's sections with every quotation verified; nothing else is
    taken out, since the text is the session's own words and computed figures."""
    index = quotes.QuoteIndex(list(transcript.utterances))
    checked = []
    for section in sections:
        text, _ = quotes.verify_quotes(
            section.text, index, client_words_of(voice), clinician_words_of(voice)
        )
        text = text or NOT_ADDRESSED
        checked.append(
            Section(
                section.key,
                section.title,
                text,
                section.utterance_ids,
                section.context_ids,
                _line_statements(text, section.utterance_ids, section.context_ids),
            )
        )
    return checked


def safety_section(transcript: Transcript, voice: Voice) -> Section:
    """Always present: the safety-related statements of the session verbatim, with
    any screening the therapist did, or that risk was not assessed."""
    findings = risk.find_risk(list(transcript.utterances))
    text, ids = risk.risk_section(findings, _capitalised(voice.client))
    cited = tuple(ids)
    return Section(
        SAFETY_KEY, SAFETY_TITLE, text, cited, (), _line_statements(text, cited, ())
    )


def client_words_of(voice: Voice) -> list[str]:
    return sorted({voice.client, "the client", "client"})


def clinician_words_of(voice: Voice) -> list[str]:
    words = set(CLINICIAN_WORDS)
    words.add("I" if voice.first_person else voice.clinician)
    return sorted(words)


def _statement(proto: StatementProto, offered: frozenset[str]) -> Statement:
    # The session facts are a source for the checks, not a context item to cite.
    return Statement(
        proto.text,
        tuple(proto.evidence.utterance_ids),
        tuple(i for i in proto.evidence.context_ids if i in offered),
    )


def _line_statements(
    text: str, ids: tuple[str, ...], contexts: tuple[str, ...]
) -> tuple[Statement, ...]:
    return tuple(
        Statement(sentence, ids, contexts)
        for sentence in grounding.split_statements(text)
    )


def _union(first: tuple[str, ...], more: Iterable[str]) -> tuple[str, ...]:
    seen = dict.fromkeys(first)
    for item in more:
        seen.setdefault(item, None)
    return tuple(seen)


def _capitalised(phrase: str) -> str:
    return phrase[:1].upper() + phrase[1:]
