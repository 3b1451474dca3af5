"""The drafter in-process with the scripted model: every format's headings, the
clinician's own template, their voice, quotes, session facts, safety and scores."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from notewell.common.v1.common_pb2 import Modality, SpeakerRole
from notewell.drafter.context import build_context
from notewell.drafter.drafting import Draft, Drafter
from notewell.drafter.formats import BUILT_IN, SOAP, from_template, sentence_pattern
from notewell.drafter.model import LanguageModel
from notewell.drafter.note import draft_note
from notewell.drafter.settings import Settings
from notewell.drafter.voice import DEFAULT_VOICE, resolve_voice
from notewell.events.v1.events_pb2 import TranscriptReady
from notewell.measures.v1.measures_pb2 import Measurement
from notewell.notes.v1.note_pb2 import (
    ClientProfile,
    ClinicianProfile,
    DetailLevel,
    DirectQuotes,
    NotePreferences,
    NoteTemplate,
    TemplateHeading,
)
from tests.support.scripted_llm import ScriptedLLM

from .conftest import SHORT_SESSION, make_transcript, session_facts

pytestmark = pytest.mark.asyncio

Write = Callable[..., Any]


def answer_every_heading(text: str = "{key} as written.", ids=("u1",)) -> Any:
    """A scripted reply filling whatever headings the schema asks for."""

    def respond(messages: list[dict[str, Any]], response_format: Any) -> str:
        keys = list(response_format["schema"]["properties"])
        return json.dumps(
            {
                k: {"sentences": [text.format(key=k)], "utterance_ids": list(ids)}
                for k in keys
            }
        )

    return respond


@pytest.fixture
async def drafter(llm: ScriptedLLM) -> AsyncIterator[Drafter]:
    settings = Settings(OPENAI_BASE_URL=llm.base_url, LLM_BACKOFF_SECONDS="0.05")
    model = LanguageModel(settings)
    try:
        yield Drafter(model, settings)
    finally:
        await model.close()


def _keys(draft: Draft) -> list[str]:
    return [s.key for s in draft.sections]


@pytest.mark.parametrize("name", sorted(BUILT_IN))
async def test_every_built_in_format_drafts_its_headings_in_order(
    name, llm, drafter, short_transcript
) -> None:
    note_format = BUILT_IN[name]
    llm.respond = answer_every_heading()
    draft = await drafter.draft("s", short_transcript, session_facts(), note_format)

    expected = {
        "DAP": ["data", "assessment", "plan"],
        "SOAP": ["subjective", "objective", "assessment", "plan"],
        "BIRP": ["behavior", "intervention", "response", "plan"],
        "GIRP": ["goals", "intervention", "response", "plan"],
        "PIE": ["problem", "intervention", "evaluation"],
        "NARRATIVE": ["narrative"],
    }[name]
    assert _keys(draft) == ["session", *expected, "safety"]
    assert not draft.extractive_fallback
    assert [s.title for s in draft.sections[1:-1]] == [
        h.title for h in note_format.headings
    ]
    assert [s.text for s in draft.sections[1:-1]] == [
        f"{k} as written." for k in expected
    ]

    [request] = llm.requests
    assert request.schema["required"] == expected
    for heading in note_format.headings:
        assert f"- {heading.key} ({heading.title}): {heading.instruction}" in (
            request.prompt
        )
    assert f"Write a {name} progress note" in request.prompt


async def test_the_clinicians_own_template_gives_its_headings(
    llm, drafter, short_transcript
) -> None:
    template = NoteTemplate(
        template_id="t-mine",
        name="My note",
        headings=[
            TemplateHeading(
                key="presenting", title="Presenting concerns", instruction="Why now."
            ),
            TemplateHeading(title="Work With Client", instruction="What we did."),
            # The drafter writes safety itself, and a repeated key is kept once.
            TemplateHeading(key="safety", title="Safety", instruction="Risk."),
            TemplateHeading(key="presenting", title="Again", instruction="Twice."),
            TemplateHeading(key="next", title="Next steps"),
        ],
    )
    note_format = from_template(template)
    assert note_format is not None
    llm.respond = answer_every_heading()
    draft = await drafter.draft("s", short_transcript, session_facts(), note_format)

    assert _keys(draft) == [
        "session",
        "presenting",
        "work_with_client",
        "next",
        "safety",
    ]
    assert [s.title for s in draft.sections] == [
        "Session",
        "Presenting concerns",
        "Work With Client",
        "Next steps",
        "Safety",
    ]
    prompt = llm.requests[0].prompt
    assert "- presenting (Presenting concerns): Why now." in prompt
    assert "- next (Next steps): What belongs under Next steps." in prompt
    assert "Write a progress note" in prompt

    note = draft_note(_event(), draft, "d-1", Timestamp())
    assert (note.format, note.template_id) == ("CUSTOM", "t-mine")


def _sentence_range(request: Any, key: str) -> tuple[int, int]:
    schema = request.body["response_format"]["schema"]
    written = schema["properties"][key]["properties"]["sentences"]["anyOf"][0]
    return written["minItems"], written["maxItems"]


async def test_the_detail_level_bounds_each_section_in_sentences(llm, drafter) -> None:
    """A 1,240-word session supports any level: brief, standard and detailed ask for
    clearly different sentence ranges, and the schema holds the model to them."""
    long_session = make_transcript(SHORT_SESSION * 5, "sess-long")
    llm.respond = answer_every_heading()
    sizes = {}
    for level in (
        DetailLevel.DETAIL_LEVEL_BRIEF,
        DetailLevel.DETAIL_LEVEL_STANDARD,
        DetailLevel.DETAIL_LEVEL_DETAILED,
    ):
        voice = resolve_voice(NotePreferences(detail_level=level))
        await drafter.draft("s", long_session, session_facts(), SOAP, voice)
        request = llm.requests[-1]
        sizes[level] = _sentence_range(request, "subjective")
        assert _sentence_range(request, "plan") == sizes[level]
    # SOAP has four headings. Brief: 100 words, 25 a section, one sentence of 18
    # words, and only one. Standard: 50 words a section, three sentences, two to
    # four. Detailed: 88 words, five sentences, four to six; 4 x (6 x 32 + 60) = 1008
    # answer tokens fit the ceiling of 1200.
    assert sizes == {
        DetailLevel.DETAIL_LEVEL_BRIEF: (1, 1),
        DetailLevel.DETAIL_LEVEL_STANDARD: (2, 4),
        DetailLevel.DETAIL_LEVEL_DETAILED: (4, 6),
    }
    detailed = llm.requests[-1]
    assert "write 5 sentences (4 to 6)" in detailed.prompt
    assert detailed.body["max_tokens"] == 1008
    # Each item is one sentence, and a section the session did not cover can still
    # say so in one sentence whatever the range.
    section = detailed.body["response_format"]["schema"]["properties"]["plan"]
    written, not_covered = section["properties"]["sentences"]["anyOf"]
    assert written["items"] == {"type": "string", "pattern": sentence_pattern()}
    assert not_covered["items"] == {"const": "Not addressed in this session."}


async def test_a_short_session_gets_a_note_it_can_support(
    llm, drafter, short_transcript
) -> None:
    """A session of 248 words supports about 99 words of note: asked for a
    detailed SOAP note, each section gets one sentence, not four to six."""
    llm.respond = answer_every_heading()
    words = sum(len(u.text.split()) for u in short_transcript.utterances)
    assert words == 248
    voice = resolve_voice(NotePreferences(detail_level=DetailLevel.DETAIL_LEVEL_DETAILED))
    await drafter.draft("s", short_transcript, session_facts(), SOAP, voice)
    assert _sentence_range(llm.requests[-1], "assessment") == (1, 1)


async def test_sentences_are_joined_into_the_section_text(llm, drafter) -> None:
    """The model's sentences become one paragraph; one left without its full stop
    gets one, so the checks read it as a sentence of its own."""

    def respond(messages: list[dict[str, Any]], response_format: Any) -> str:
        keys = list(response_format["schema"]["properties"])
        reply = {
            k: {"sentences": ["Not addressed in this session."], "utterance_ids": []}
            for k in keys
        }
        reply["subjective"] = {
            "sentences": ["The client had two panic attacks at work", "Sleep is poor."],
            "utterance_ids": ["u2", "u10"],
        }
        return json.dumps(reply)

    llm.respond = respond
    transcript = make_transcript(SHORT_SESSION, "sess-join")
    draft = await drafter.draft("s", transcript, session_facts(), SOAP, DEFAULT_VOICE)
    subjective = next(s for s in draft.sections if s.key == "subjective")
    assert subjective.text == "The client had two panic attacks at work. Sleep is poor."


async def test_preferences_set_the_voice_length_and_quotes_in_the_prompt(
    llm, drafter, short_transcript
) -> None:
    llm.respond = answer_every_heading()
    voice = resolve_voice(
        NotePreferences(
            clinician_reference="name and credentials",
            client_reference="first name",
            detail_level=DetailLevel.DETAIL_LEVEL_DETAILED,
            direct_quotes=DirectQuotes.DIRECT_QUOTES_NONE,
        ),
        ClinicianProfile(display_name="Dana Reyes", credentials="LCSW"),
        ClientProfile(full_name="Jordan Avery Blake", pronouns="they/them"),
    )
    await drafter.draft("s", short_transcript, session_facts(), SOAP, voice)
    detailed = llm.requests[-1]
    assert 'Refer to the therapist (T) as "Dana Reyes, LCSW".' in detailed.prompt
    assert 'Refer to the client (C) as "Jordan".' in detailed.prompt
    assert "The client's pronouns are they/them." in detailed.prompt
    assert "a detailed note." in detailed.prompt
    assert "Do not quote the client or therapist at all" in detailed.prompt

    brief = resolve_voice(
        NotePreferences(
            clinician_reference="first person",
            client_reference="initials",
            detail_level=DetailLevel.DETAIL_LEVEL_BRIEF,
            direct_quotes=DirectQuotes.DIRECT_QUOTES_MANY,
        ),
        client=ClientProfile(full_name="Jordan Avery Blake"),
    )
    await drafter.draft("s", short_transcript, session_facts(), BUILT_IN["DAP"], brief)
    short = llm.requests[-1]
    assert "write about them in the first person" in short.prompt
    assert 'Refer to the client (C) as "J.A.B.".' in short.prompt
    assert "No pronouns are recorded" in short.prompt
    assert "a brief note." in short.prompt
    assert "at most six quotes" in short.prompt
    # Initials hold full stops, which the sentence grammar admits inside a sentence.
    plan = short.body["response_format"]["schema"]["properties"]["plan"]
    written = plan["properties"]["sentences"]["anyOf"][0]["items"]["pattern"]
    assert re.fullmatch(written, "I met J.A.B. to review the week and one goal.")

    phrase = resolve_voice(
        NotePreferences(clinician_reference="this writer", client_reference="the member")
    )
    await drafter.draft("s", short_transcript, session_facts(), SOAP, phrase)
    assert 'Refer to the therapist (T) as "this writer".' in llm.requests[-1].prompt
    assert 'Refer to the client (C) as "the member".' in llm.requests[-1].prompt


QUOTING = "The client said “I wake up around four” and “Not great” and “I can do that”."


@pytest.mark.parametrize(
    ("quotes", "kept"),
    [
        (DirectQuotes.DIRECT_QUOTES_NONE, 0),
        (DirectQuotes.DIRECT_QUOTES_A_FEW, 2),
        (DirectQuotes.DIRECT_QUOTES_MANY, 6),
    ],
)
async def test_the_quote_preference_is_enforced_after_the_model(
    quotes, kept, llm, drafter, short_transcript
) -> None:
    # Every heading quotes three verified phrases: twelve in the note.
    llm.respond = answer_every_heading(QUOTING)
    voice = resolve_voice(NotePreferences(direct_quotes=quotes))
    draft = await drafter.draft("s", short_transcript, session_facts(), SOAP, voice)
    written = "\n".join(s.text for s in draft.sections[1:-1])
    assert written.count("“") == written.count("”") == kept
    # The words stay, only their marks go.
    assert written.count("I wake up around four") == 4
    if kept == 0:
        assert '"' not in written


async def test_a_short_session_says_no_code_applies(llm, drafter) -> None:
    llm.respond = answer_every_heading()
    facts = session_facts()
    facts.actual_end.FromJsonString("2025-03-04T09:14:00Z")
    facts.duration_minutes = 12
    facts.suggested_cpt_code = ""
    facts.modality = Modality.MODALITY_IN_PERSON
    transcript = make_transcript(SHORT_SESSION, "s")
    draft = await drafter.draft("s", transcript, facts)
    assert draft.sections[0].text.splitlines() == [
        "Date: 2025-03-04",
        "Time: 09:02–09:14 UTC",
        "Duration: 12 minutes",
        "Modality: In-person",
        "Suggested CPT code: none – under 16 minutes, not billable as a "
        "psychotherapy session",
    ]


async def test_risk_talk_is_quoted_in_the_safety_section(llm, drafter) -> None:
    llm.respond = answer_every_heading()
    turns = [
        *SHORT_SESSION[:3],
        (
            SpeakerRole.SPEAKER_ROLE_CLIENT,
            "Honestly, some nights I think they'd be better off dead without me.",
        ),
        (
            SpeakerRole.SPEAKER_ROLE_CLINICIAN,
            "Thank you for telling me. Are you having thoughts of suicide?",
        ),
        (SpeakerRole.SPEAKER_ROLE_CLIENT, "No plan. I wouldn't do anything."),
    ]
    transcript = make_transcript(turns, "s")
    draft = await drafter.draft("s", transcript, session_facts())
    safety = draft.sections[-1]
    assert safety.key == "safety"
    lines = safety.text.splitlines()
    assert lines[1].startswith("- 01:00 The client")
    assert (
        "“Honestly, some nights I think they'd be better off dead without me.”"
        in (lines[1])
    )
    assert lines[2].startswith("- 01:20 The therapist")
    assert lines[3].startswith("- 01:40 The client")
    assert lines[3].endswith("“No plan. I wouldn't do anything.”")
    assert safety.utterance_ids == ("u3", "u4", "u5")
    # The model is told not to assess risk itself.
    assert "do not assess risk yourself" in llm.requests[0].prompt


def _at(iso: str) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(datetime.fromisoformat(iso).replace(tzinfo=UTC))
    return stamp


def _phq9(mid: str, total: int, iso: str, items: list[int] | None = None) -> Measurement:
    return Measurement(
        measurement_id=mid,
        client_id="client-42",
        clinician_id="clin-7",
        instrument="PHQ-9",
        total_score=total,
        item_scores=items or [],
        administered_at=_at(iso),
    )


def _event() -> TranscriptReady:
    return TranscriptReady(
        session_id="s",
        clinician_id="clin-7",
        client_id="client-42",
        session=session_facts(),
    )


async def test_scores_are_computed_in_code_cited_and_kept_on_the_note(
    llm, drafter, short_transcript
) -> None:
    measurements = [
        _phq9("m1", 20, "2025-01-07T10:00:00"),
        _phq9("m2", 16, "2025-02-04T10:00:00"),
        _phq9("m3", 12, "2025-03-03T10:00:00", [2, 2, 1, 1, 2, 1, 1, 1, 1]),
        # After the session: not yet known when it was drafted.
        _phq9("m4", 3, "2025-03-20T10:00:00"),
    ]
    context = build_context(
        measurements=measurements, session_day=datetime(2025, 3, 4).date()
    )

    def respond(messages: list[dict[str, Any]], response_format: Any) -> str:
        keys = list(response_format["schema"]["properties"])
        reply = {k: {"sentences": [f"{k}."], "utterance_ids": ["u1"]} for k in keys}
        reply["objective"]["context_ids"] = ["measure:PHQ-9", "measure:GAD-7"]
        return json.dumps(reply)

    llm.respond = respond
    draft = await drafter.draft(
        "s", short_transcript, session_facts(), SOAP, DEFAULT_VOICE, context
    )

    [request] = llm.requests
    [line] = [x for x in request.prompt.splitlines() if x.startswith("[measure:")]
    # The latest score known by the session (not the one after it), its band, the
    # change since intake with its reliable-change verdict, and the flagged item.
    assert line.startswith("[measure:PHQ-9] PHQ-9 on 2025-03-03: 12 of 27 (moderate);")
    assert "8 lower than at intake on 2025-01-07 (reliable improvement)" in line
    assert "4 lower than" in line
    assert "3 administrations on record" in line
    assert "PHQ-9 item 9" in line
    item_schema = request.schema["properties"]["objective"]["properties"]
    assert item_schema["context_ids"]["items"]["enum"] == ["measure:PHQ-9"]

    objective = draft.sections[2]
    # A context id the prompt never offered is dropped.
    assert objective.context_ids == ("measure:PHQ-9",)

    note = draft_note(_event(), draft, "d-1", Timestamp())
    [phq9] = note.measures
    assert (phq9.context_id, phq9.instrument) == ("measure:PHQ-9", "PHQ-9")
    assert (phq9.latest_score, phq9.severity, phq9.max_score, phq9.count) == (
        12,
        "moderate",
        27,
        3,
    )
    assert (phq9.change_since_previous, phq9.change_since_baseline) == (-4, -8)
    assert phq9.reliable_change == "improved"
    assert list(note.sections[2].evidence.context_ids) == ["measure:PHQ-9"]
    assert list(note.sections[2].statements[0].evidence.context_ids) == ["measure:PHQ-9"]
