"""`make eval`: how good the drafter's notes are, with the real local model.

Two parts, each on the first ``--limit`` items after ``--offset`` (``--annomi`` names
AnnoMI sessions by id instead):

* ACI-Bench ``clinicalnlp_taskB_test1``: each doctor-patient encounter is drafted under
  a clinician template whose headings are the reference notes' sections, and the note
  is scored with ROUGE-1/2/L against the reference, beside the "whole transcript
  copied as the note" baseline on the same encounters and the published figures.
* AnnoMI counselling sessions, each drafted as SOAP at the brief, standard and detailed
  levels: the share of quotations found verbatim in one utterance, the share of
  numbers that occur in the transcript or the session facts, risk statements whose
  cited utterances say nothing of risk, sections left empty or "not addressed" where
  the session has content for them, and words per note by detail level.

The report is written as ``report.md`` and ``report.json`` under
``.data/eval/<UTC time>/`` and the markdown is printed. The drafter runs in-process;
the model is the server at ``OPENAI_BASE_URL`` when set, otherwise the local llama.cpp
server started (and stopped again) through devstack.

    python -m notewell_tools.evaluate [--limit 5] [--offset 0] [--parts aci annomi]
        [--levels brief standard detailed] [--annomi 121 98]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notewell.common.v1.common_pb2 import SessionFacts, SpeakerRole, Transcript, Utterance
from notewell.drafter import formats
from notewell.drafter.drafting import Drafter
from notewell.drafter.model import LanguageModel
from notewell.drafter.session_facts import describe
from notewell.drafter.settings import Settings
from notewell.drafter.voice import resolve_voice
from notewell.notes.v1.note_pb2 import (
    DetailLevel,
    DirectQuotes,
    NotePreferences,
    NoteTemplate,
    TemplateHeading,
)
from notewell_tools.note_metrics import (
    expected_sections,
    is_unfilled,
    matched_numbers,
    mentions_risk,
    quotations,
    risk_sentences,
    rouge,
    said_verbatim,
)
from notewell_tools.sessions import DATASETS, ROOT, annomi_ids, load_annomi

ACI_TEST = DATASETS / "aci-bench" / "clinicalnlp_taskB_test1.json"
REPORTS = ROOT / ".data" / "eval"
# About 20 minutes on a two-core machine: an encounter takes about a minute and a half
# and a session at three detail levels about three (the later levels reuse the
# server's cache of the transcript's tokens, so they cost mostly the answer).
DEFAULT_LIMIT = 5

# Full-note ROUGE-1 / ROUGE-2 / ROUGE-L on clinicalnlp_taskB_test1 (Yim et al., 2023).
PUBLISHED = {
    "GPT-4 (zero-shot)": (51.76, 22.58, 45.97),
    "ChatGPT": (47.44, 19.01, 42.47),
    "BART fine-tuned per section": (53.46, 25.08, 48.62),
    "LED": (28.37, 5.52, 22.78),
    "transcript copied as the note": (32.84, 12.53, 30.61),
}

# The sections the reference notes use, merged where they name the same thing
# ("PHYSICAL EXAM" / "PHYSICAL EXAMINATION", "ASSESSMENT" + "PLAN").
ACI_HEADINGS = (
    ("chief_complaint", "CHIEF COMPLAINT", "The reason for the visit, in a few words."),
    (
        "history_of_present_illness",
        "HISTORY OF PRESENT ILLNESS",
        "The patient's story of the current problems: onset, symptoms, what they "
        "tried, relevant history, medications and social factors they mention.",
    ),
    (
        "review_of_systems",
        "REVIEW OF SYSTEMS",
        "Symptoms the patient endorses or denies, by body system.",
    ),
    (
        "physical_examination",
        "PHYSICAL EXAMINATION",
        "The doctor's examination findings, by body system.",
    ),
    ("results", "RESULTS", "Test, imaging and lab results the doctor discusses."),
    (
        "assessment_and_plan",
        "ASSESSMENT AND PLAN",
        "Each problem with the doctor's impression and the plan: tests, medications "
        "with doses, referrals, instructions and follow-up.",
    ),
)
ACI_ROLES = {"doctor": SpeakerRole.SPEAKER_ROLE_CLINICIAN}
_ACI_TURN = re.compile(r"^\[(?P<speaker>[a-z_]+)\]\s*(?P<text>.*)$")

DETAIL_LEVELS = {
    "brief": DetailLevel.DETAIL_LEVEL_BRIEF,
    "standard": DetailLevel.DETAIL_LEVEL_STANDARD,
    "detailed": DetailLevel.DETAIL_LEVEL_DETAILED,
}
ANNOMI_ROLES = {
    "clinician": SpeakerRole.SPEAKER_ROLE_CLINICIAN,
    "client": SpeakerRole.SPEAKER_ROLE_CLIENT,
}

# ---------------------------------------------------------------- inputs


def aci_encounters(offset: int, limit: int) -> list[dict[str, str]]:
    data = json.loads(ACI_TEST.read_text())
    items: list[dict[str, str]] = data["data"]
    return items[offset : offset + limit]


def aci_transcript(source: str, name: str) -> Transcript:
    """An ACI-Bench ``src`` (``[doctor] …`` / ``[patient] …`` lines) as a transcript;
    other speakers (a patient's guest) are OTHER, lines without a tag join the turn
    before."""
    utterances: list[Utterance] = []
    for line in source.splitlines():
        match = _ACI_TURN.match(line.strip())
        if match is None:
            if utterances and line.strip():
                utterances[-1].text += " " + line.strip()
            continue
        speaker = match.group("speaker")
        role = ACI_ROLES.get(speaker)
        if role is None:
            role = (
                SpeakerRole.SPEAKER_ROLE_CLIENT
                if speaker == "patient"
                else SpeakerRole.SPEAKER_ROLE_OTHER
            )
        utterances.append(
            Utterance(id=f"u{len(utterances)}", role=role, text=match.group("text"))
        )
    return Transcript(session_id=name, transcript_id=f"tr-{name}", utterances=utterances)


def annomi_transcript(transcript_id: int) -> tuple[Transcript, float]:
    session = load_annomi(transcript_id)
    utterances = [
        Utterance(
            id=f"u{i}",
            role=ANNOMI_ROLES[str(turn["speaker"])],
            text=str(turn["text"]),
            start_seconds=float(turn["start"]),  # type: ignore[arg-type]
            end_seconds=float(turn["end"]),  # type: ignore[arg-type]
        )
        for i, turn in enumerate(session.transcript["turns"])
    ]
    transcript = Transcript(
        session_id=session.name, transcript_id=f"tr-{session.name}", utterances=utterances
    )
    return transcript, session.duration_seconds


def aci_template() -> NoteTemplate:
    return NoteTemplate(
        template_id="aci-bench",
        name="ACI-Bench full note",
        headings=[
            TemplateHeading(key=k, title=t, instruction=i) for k, t, i in ACI_HEADINGS
        ],
    )


# ---------------------------------------------------------------- drafting


@dataclass
class Drafted:
    """One draft: the model-written sections as (key, title, text), every section's
    statements with their evidence, and how it went."""

    sections: list[tuple[str, str, str]]
    evidence: list[tuple[str, tuple[str, ...]]]
    seconds: float
    fallback: bool

    def text(self) -> str:
        return "\n\n".join(f"{title.upper()}\n{body}" for _, title, body in self.sections)


class Drafting:
    """The drafter in-process, against the model the settings name."""

    def __init__(self) -> None:
        settings = Settings()
        self._drafter = Drafter(LanguageModel(settings), settings)

    async def draft(
        self,
        transcript: Transcript,
        facts: SessionFacts,
        template: NoteTemplate | None,
        preferences: NotePreferences,
    ) -> Drafted:
        note_format = formats.SOAP
        if template is not None:
            custom = formats.from_template(template)
            if custom is None:
                raise ValueError("the evaluation template has no usable heading")
            note_format = custom
        started = time.monotonic()
        draft = await self._drafter.draft(
            transcript.session_id,
            transcript,
            facts,
            note_format=note_format,
            voice=resolve_voice(preferences),
        )
        seconds = time.monotonic() - started
        keys = set(note_format.keys)
        written = [(s.key, s.title, s.text) for s in draft.sections if s.key in keys]
        evidence: list[tuple[str, tuple[str, ...]]] = []
        for section in draft.sections:
            statements = section.statements or ()
            if statements:
                evidence.extend((s.text, s.utterance_ids) for s in statements)
            else:
                evidence.append((section.text, section.utterance_ids))
        return Drafted(written, evidence, seconds, draft.extractive_fallback)


# ---------------------------------------------------------------- the two parts


@dataclass
class AciResult:
    encounter: str
    words: int
    seconds: float
    fallback: bool
    note_words: int
    drafted: dict[str, float]
    transcript_copied: dict[str, float]


async def evaluate_aci(drafting: Drafting, offset: int, limit: int) -> list[AciResult]:
    preferences = NotePreferences(
        clinician_reference="the doctor",
        client_reference="the patient",
        detail_level=DetailLevel.DETAIL_LEVEL_DETAILED,
        direct_quotes=DirectQuotes.DIRECT_QUOTES_NONE,
    )
    results = []
    for number, item in enumerate(aci_encounters(offset, limit), start=offset):
        name = f"aci-test1-{number}"
        transcript = aci_transcript(item["src"], name)
        drafted = await drafting.draft(
            transcript, SessionFacts(), aci_template(), preferences
        )
        note = drafted.text()
        results.append(
            AciResult(
                encounter=name,
                words=len(item["src"].split()),
                seconds=round(drafted.seconds, 1),
                fallback=drafted.fallback,
                note_words=len(note.split()),
                drafted=rouge(note, item["tgt"]),
                transcript_copied=rouge(item["src"], item["tgt"]),
            )
        )
        print(f"  {name}: {results[-1].seconds} s", flush=True)
    return results


@dataclass
class AnnomiResult:
    session: str
    detail: str
    words: int
    seconds: float
    fallback: bool
    note_words: int
    quotes: int
    quotes_verbatim: int
    numbers: int
    numbers_matched: int
    risk_statements: int
    risk_without_evidence: int
    missing_sections: list[str] = field(default_factory=list)


def annomi_result(
    name: str,
    detail: str,
    transcript: Transcript,
    facts_text: str,
    drafted: Drafted,
    not_addressed: str,
) -> AnnomiResult:
    said = [u.text for u in transcript.utterances]
    by_id = {u.id: u.text for u in transcript.utterances}
    whole = "\n".join(text for text, _ in drafted.evidence)
    found = quotations(whole)
    matched, total = matched_numbers(
        "\n".join(body for _, _, body in drafted.sections), [*said, facts_text]
    )
    risky = [
        (sentence, ids)
        for text, ids in drafted.evidence
        for sentence in risk_sentences(text)
    ]
    unsupported = [
        1 for _, ids in risky if not any(mentions_risk(by_id.get(i, "")) for i in ids)
    ]
    expected = expected_sections(transcript)
    missing = [
        key
        for key, _, body in drafted.sections
        if key in expected and is_unfilled(body, not_addressed)
    ]
    return AnnomiResult(
        session=name,
        detail=detail,
        words=sum(len(t.split()) for t in said),
        seconds=round(drafted.seconds, 1),
        fallback=drafted.fallback,
        note_words=sum(len(body.split()) for _, _, body in drafted.sections),
        quotes=len(found),
        quotes_verbatim=sum(said_verbatim(q, said) for q in found),
        numbers=total,
        numbers_matched=matched,
        risk_statements=len(risky),
        risk_without_evidence=len(unsupported),
        missing_sections=missing,
    )


async def evaluate_annomi(
    drafting: Drafting, transcript_ids: Sequence[int], levels: Sequence[str]
) -> list[AnnomiResult]:
    results = []
    for transcript_id in transcript_ids:
        transcript, duration = annomi_transcript(transcript_id)
        facts = SessionFacts(duration_minutes=max(1, round(duration / 60)))
        for detail in levels:
            preferences = NotePreferences(detail_level=DETAIL_LEVELS[detail])
            drafted = await drafting.draft(transcript, facts, None, preferences)
            results.append(
                annomi_result(
                    transcript.session_id,
                    detail,
                    transcript,
                    describe(facts),
                    drafted,
                    formats.NOT_ADDRESSED,
                )
            )
            print(
                f"  {transcript.session_id} {detail}: {results[-1].seconds} s", flush=True
            )
    return results


# ---------------------------------------------------------------- report


def _mean(values: Iterable[float]) -> float:
    values = list(values)
    return round(statistics.fmean(values), 2) if values else float("nan")


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "none"


def summary(aci: list[AciResult], annomi: list[AnnomiResult]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if aci:
        out["aci"] = {
            "encounters": len(aci),
            "drafted": {k: _mean(r.drafted[k] for r in aci) for k in aci[0].drafted},
            "transcript_copied": {
                k: _mean(r.transcript_copied[k] for r in aci)
                for k in aci[0].transcript_copied
            },
            "seconds_per_encounter": _mean(r.seconds for r in aci),
            "fallbacks": sum(r.fallback for r in aci),
        }
    if annomi:
        out["annomi"] = {
            "sessions": len({r.session for r in annomi}),
            "drafts": len(annomi),
            "quotes": sum(r.quotes for r in annomi),
            "quotes_verbatim": sum(r.quotes_verbatim for r in annomi),
            "numbers": sum(r.numbers for r in annomi),
            "numbers_matched": sum(r.numbers_matched for r in annomi),
            "risk_statements": sum(r.risk_statements for r in annomi),
            "risk_without_evidence": sum(r.risk_without_evidence for r in annomi),
            "missing_sections": sum(len(r.missing_sections) for r in annomi),
            "words_by_detail": {
                level: _mean(r.note_words for r in annomi if r.detail == level)
                for level in dict.fromkeys(r.detail for r in annomi)
            },
            "seconds_per_draft": _mean(r.seconds for r in annomi),
            "fallbacks": sum(r.fallback for r in annomi),
        }
    return out


def markdown(totals: dict[str, Any], model: str) -> str:
    lines = [f"# Drafter evaluation ({model})", ""]
    aci = totals.get("aci")
    if aci:
        lines += [
            f"## ACI-Bench clinicalnlp_taskB_test1 ({aci['encounters']} encounters)",
            "",
            "| system | ROUGE-1 | ROUGE-2 | ROUGE-L | ROUGE-Lsum |",
            "| --- | --- | --- | --- | --- |",
        ]
        for label, scores in (
            ("notewell drafter (these encounters)", aci["drafted"]),
            ("transcript copied (these encounters)", aci["transcript_copied"]),
        ):
            lines.append(
                f"| {label} | {scores['rouge1']} | {scores['rouge2']} | "
                f"{scores['rougeL']} | {scores['rougeLsum']} |"
            )
        for label, (r1, r2, rl) in PUBLISHED.items():
            lines.append(f"| published: {label} (all 40) | {r1} | {r2} | {rl} | |")
        lines += [
            "",
            f"Seconds per encounter: {aci['seconds_per_encounter']}; "
            f"extractive fallbacks: {aci['fallbacks']}.",
            "",
        ]
    annomi = totals.get("annomi")
    if annomi:
        words = ", ".join(f"{k} {v}" for k, v in annomi["words_by_detail"].items())
        lines += [
            f"## AnnoMI ({annomi['sessions']} sessions, {annomi['drafts']} drafts)",
            "",
            "| measure | value |",
            "| --- | --- |",
            f"| quotations found verbatim | "
            f"{_share(annomi['quotes_verbatim'], annomi['quotes'])} |",
            f"| numbers found in transcript or session facts | "
            f"{_share(annomi['numbers_matched'], annomi['numbers'])} |",
            f"| risk statements without risk in their evidence | "
            f"{annomi['risk_without_evidence']} of {annomi['risk_statements']} |",
            f"| sections empty or not addressed where the session has content | "
            f"{annomi['missing_sections']} |",
            f"| words per note by detail level | {words} |",
            f"| seconds per draft | {annomi['seconds_per_draft']} |",
            f"| extractive fallbacks | {annomi['fallbacks']} |",
            "",
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------- running


def _model_env() -> Any:
    """The devstack that serves the model, or None when OPENAI_BASE_URL names one."""
    if os.environ.get("OPENAI_BASE_URL"):
        return None
    from devstack import Stack

    stack = Stack(REPORTS / "stack")
    os.environ.update(stack.up_llm())
    return stack


async def run(args: argparse.Namespace) -> Path:
    drafting = Drafting()
    aci: list[AciResult] = []
    annomi: list[AnnomiResult] = []
    if "aci" in args.parts:
        if ACI_TEST.is_file():
            print("ACI-Bench", flush=True)
            aci = await evaluate_aci(drafting, args.offset, args.limit)
        else:
            print(f"ACI-Bench skipped: {ACI_TEST} is absent")
    if "annomi" in args.parts:
        print("AnnoMI", flush=True)
        chosen = args.annomi or annomi_ids()[args.offset : args.offset + args.limit]
        annomi = await evaluate_annomi(drafting, chosen, args.levels)

    totals = summary(aci, annomi)
    model = os.environ.get("LLM_MODEL", "model")
    folder = args.out / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True, exist_ok=True)
    report = {
        "model": model,
        "offset": args.offset,
        "limit": args.limit,
        "summary": totals,
        "aci": [asdict(r) for r in aci],
        "annomi": [asdict(r) for r in annomi],
    }
    (folder / "report.json").write_text(json.dumps(report, indent=2))
    text = markdown(totals, model)
    (folder / "report.md").write_text(text + "\n")
    print(text)
    print(f"report: {folder}")
    return folder


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=DEFAULT_LIMIT)
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument(
        "--parts", nargs="+", choices=["aci", "annomi"], default=["aci", "annomi"]
    )
    parser.add_argument(
        "--levels", nargs="+", choices=list(DETAIL_LEVELS), default=list(DETAIL_LEVELS)
    )
    parser.add_argument(
        "--annomi",
        type=int,
        nargs="+",
        metavar="ID",
        help="AnnoMI sessions by transcript id, in place of --offset and --limit",
    )
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)

    stack = _model_env()
    try:
        asyncio.run(run(args))
    finally:
        if stack is not None:
            stack.stop_started()


if __name__ == "__main__":
    main()
