"""transcript.ready in, draft.created out, against the real broker and database with a
scripted model."""

from __future__ import annotations

import json
import logging
import re

import pytest

from notewell.common.v1.common_pb2 import SealedBox, SpeakerRole
from notewell.drafter.fallback import NOT_GENERATED, SECTION_MARK, TITLE_MARK
from notewell.events.v1.events_pb2 import DeadLetter
from notewell.notes.v1.note_pb2 import Note, NoteOrigin, NoteStatus
from notewell.platform import events
from notewell.platform.crypto import LocalMasterKey, Sealer

pytestmark = pytest.mark.asyncio

KEYS = ["subjective", "objective", "assessment", "plan"]
# The model's sections between the two the drafter writes in code.
ALL_KEYS = ["session", *KEYS, "safety"]


async def test_transcript_ready_gives_one_draft_with_the_scripted_sections(
    harness,
) -> None:
    harness.llm.reply(
        harness.soap(
            subjective="The client reported two panic attacks at work.",
            objective="The client was engaged and reflective.",
            assessment="Panic symptoms persist; coping skills are emerging.",
            plan="Worry log each evening; breathing twice daily.",
        )
    )
    transcript = harness.transcript()
    sid = transcript.session_id
    await harness.send(harness.event(transcript))

    [(key, created)] = await harness.drafts(1)
    assert key == sid
    assert (created.session_id, created.clinician_id, created.client_id) == (
        sid,
        "clin-7",
        "client-42",
    )
    note = harness.open_note(created)
    assert [s.key for s in note.sections] == ALL_KEYS
    assert [s.title for s in note.sections] == [
        "Session",
        "Subjective",
        "Objective",
        "Assessment",
        "Plan",
        "Safety",
    ]
    texts = {s.key: s.text for s in note.sections}
    assert {key: texts[key] for key in KEYS} == {
        "subjective": "The client reported two panic attacks at work.",
        "objective": "The client was engaged and reflective.",
        "assessment": "Panic symptoms persist; coping skills are emerging.",
        "plan": "Worry log each evening; breathing twice daily.",
    }
    assert texts["session"] == (
        "Date: 2025-03-04\n"
        "Time: 09:02–09:52 UTC\n"
        "Duration: 50 minutes\n"
        "Modality: Telehealth\n"
        "Suggested CPT code: 90834 (suggestion; confirm before billing)"
    )
    assert texts["safety"].startswith("Risk was not assessed in this session")
    assert {s.key: list(s.evidence.utterance_ids) for s in note.sections} == {
        "session": [],
        "subjective": ["u1"],
        "objective": ["u7"],
        "assessment": ["u5"],
        "plan": ["u14"],
        "safety": [],
    }
    subjective = note.sections[1]
    assert [st.text for st in subjective.statements] == [subjective.text]
    assert list(subjective.statements[0].evidence.utterance_ids) == ["u1"]
    assert note.note_id == created.draft_id
    assert (note.session_id, note.clinician_id, note.client_id) == (
        sid,
        "clin-7",
        "client-42",
    )
    assert note.format == "SOAP"
    assert note.status == NoteStatus.NOTE_STATUS_DRAFT
    assert note.origin == NoteOrigin.NOTE_ORIGIN_AI_DRAFT
    assert note.title == "Progress note – 2025-03-04"
    assert note.version == 1
    assert not note.extractive_fallback
    assert note.session.duration_minutes == 50
    assert note.session.suggested_cpt_code == "90834"
    assert note.created_at.seconds > 0

    # The model saw the transcript lines with their ids, and the session facts.
    [request] = harness.llm.requests
    assert re.search(r"^\[?u1\]? \w+: Honestly it was rough\.", request.prompt, re.M)
    assert re.search(r"^\[?u0\]? \w+: Good to see you again\.", request.prompt, re.M)
    assert "Telehealth session on 2025-03-04" in request.prompt
    assert request.response_format["type"] == "json_object"
    assert request.schema["required"] == KEYS
    # The default preferences ask for a standard note, about 200 words; a session of
    # 248 words supports about 99, so one sentence in each of four sections, and
    # answer tokens for the longest it may be, two sentences' worth: 4 x (2 x 32 + 60).
    assert "a standard length note." in request.prompt
    assert "write 1 sentence, each a complete sentence" in request.prompt
    assert request.body["max_tokens"] == 4 * (2 * 32 + 60)

    stored = await harness.stored_draft(sid)
    assert stored is not None
    assert stored["draft_id"] == created.draft_id
    assert (stored["clinician_id"], stored["client_id"]) == ("clin-7", "client-42")
    assert stored["fallback"] is False
    box = SealedBox.FromString(bytes(stored["note"]))
    assert harness.sealer.open(box, Note, context=sid) == note


async def test_unspoken_quotes_and_unknown_evidence_are_removed(harness) -> None:
    harness.llm.reply(
        harness.soap(
            subjective=(
                "The client said “I just sat there gripping the table” and "
                '"I feel completely hopeless about everything".'
            ),
            objective='Client described "my chest got TIGHT, and my hands were shaking".',
            assessment='"Nothing will ever change."',
            plan="Worry log each evening.",
            ids={
                "subjective": ["u7", "u99", "u7", "x1"],
                "objective": ["u3", "[u5]"],
                "assessment": ["u200"],
                "plan": [],
            },
        )
    )
    transcript = harness.transcript()
    await harness.send(harness.event(transcript))

    [(_, created)] = await harness.drafts(1)
    note = harness.open_note(created)
    sections = {s.key: s for s in note.sections}

    # A verbatim quote stays (case, punctuation and curly marks aside); an invented one
    # goes, marks and words.
    subjective = sections["subjective"].text
    assert "“I just sat there gripping the table”" in subjective
    assert "hopeless" not in subjective
    assert subjective.count('"') == 0
    assert sections["objective"].text == (
        'Client described "my chest got TIGHT, and my hands were shaking".'
    )
    # The assessment was nothing but an invented quote.
    assert sections["assessment"].text == "Not addressed in this session."
    assert list(sections["assessment"].evidence.utterance_ids) == []

    assert list(sections["subjective"].evidence.utterance_ids) == ["u7"]
    assert list(sections["objective"].evidence.utterance_ids) == ["u3", "u5"]
    assert not note.extractive_fallback


async def test_model_failing_every_time_gives_a_marked_extractive_draft(harness) -> None:
    harness.llm.fail_all(500)
    transcript = harness.transcript()
    sid = transcript.session_id
    await harness.send(harness.event(transcript))

    [(_, created)] = await harness.drafts(1)
    note = harness.open_note(created)
    assert harness.llm.calls == harness.settings.llm_max_attempts == 3
    assert note.extractive_fallback
    assert note.title.startswith(TITLE_MARK)
    assert (
        note.title == "[Extractive draft – model unavailable] Progress note – 2025-03-04"
    )
    assert note.status == NoteStatus.NOTE_STATUS_DRAFT
    sections = {s.key: s for s in note.sections}
    assert list(sections) == ALL_KEYS

    client_turns = {
        u.id: u.text
        for u in transcript.utterances
        if u.role == SpeakerRole.SPEAKER_ROLE_CLIENT
    }
    subjective = sections["subjective"]
    quotes = re.findall(r"“([^”]*)”", subjective.text)
    assert len(quotes) == 3
    cited = list(subjective.evidence.utterance_ids)
    assert len(cited) == 3
    # Each quote is one of the cited client turns, word for word.
    for utterance_id, quote in zip(cited, quotes, strict=True):
        assert client_turns[utterance_id] == quote
    # The longest client turn is among them.
    longest = max(client_turns, key=lambda i: len(client_turns[i]))
    assert longest in cited

    assert subjective.text.splitlines()[0] == SECTION_MARK
    assert "Date: 2025-03-04" in sections["session"].text
    assert "Duration: 50 minutes" in sections["session"].text
    assert sections["objective"].text == NOT_GENERATED
    assert sections["assessment"].text == NOT_GENERATED
    assert sections["safety"].text.startswith("Risk was not assessed")
    plan = sections["plan"]
    assert list(plan.evidence.utterance_ids) == ["u14"]
    assert "keep a short worry log each evening" in plan.text

    stored = await harness.stored_draft(sid)
    assert stored is not None and stored["fallback"] is True


async def test_invalid_json_is_retried_and_the_valid_answer_used(harness) -> None:
    harness.llm.reply(
        '{"subjective": {"sentences": ["cut off',
        harness.soap(subjective="The client reported poor sleep."),
    )
    await harness.send(harness.event(harness.transcript()))

    [(_, created)] = await harness.drafts(1)
    note = harness.open_note(created)
    assert harness.llm.calls == 2
    assert not note.extractive_fallback
    assert note.sections[1].text == "The client reported poor sleep."


async def test_a_redelivered_event_drafts_once_and_calls_the_model_once(
    harness, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="notewell.drafter")
    harness.llm.respond = lambda messages, response_format: harness.soap()
    transcript = harness.transcript()
    sid = transcript.session_id
    event = harness.event(transcript)
    await harness.send(event)
    await harness.send(event)

    await harness.drafts(1)
    await harness.eventually(
        lambda: any(
            r.getMessage() == "draft_already_exists"
            and getattr(r, "session_id", None) == sid
            for r in caplog.records
        ),
        what="the redelivery to be recognised",
    )
    assert await harness.bus.total(events.DRAFT_CREATED) == 1
    assert harness.llm.calls == 1


async def test_invalid_events_are_dead_lettered_without_calling_the_model(
    harness,
) -> None:
    transcript = harness.transcript()
    unopenable = harness.event(transcript)
    # Sealed under a master key the drafter does not have.
    stranger = Sealer(LocalMasterKey(harness.settings.local_master_key_file + ".other"))
    unopenable.transcript.CopyFrom(
        stranger.seal(transcript, context=transcript.session_id)
    )
    moved = harness.event(harness.transcript())
    # A box sealed for one session cannot be replayed under another.
    moved.session_id = "sess-elsewhere"
    no_client = harness.event(harness.transcript())
    no_client.client_id = ""

    silent = harness.transcript([(SpeakerRole.SPEAKER_ROLE_CLIENT, "  ")])
    elsewhere = harness.transcript()
    elsewhere_event = harness.event(elsewhere)
    elsewhere.session_id = "sess-other"
    # Sealed for the event's session but naming another one inside.
    elsewhere_event.transcript.CopyFrom(
        harness.sealer.seal(elsewhere, context=elsewhere_event.session_id)
    )
    invalid = (unopenable, moved, no_client, harness.event(silent), elsewhere_event)
    for event in invalid:
        await harness.send(event)

    letters = await harness.bus.read(
        events.dead_letter_topic(events.TRANSCRIPT_READY), DeadLetter, len(invalid)
    )
    by_session = {letter.session_id: letter for _, letter in letters}
    assert by_session[unopenable.session_id].reason_code == "unreadable_transcript"
    assert by_session["sess-elsewhere"].reason_code == "unreadable_transcript"
    assert by_session[no_client.session_id].reason_code == "missing_field"
    assert "client_id" in by_session[no_client.session_id].reason
    assert by_session[silent.session_id].reason_code == "empty_transcript"
    assert by_session[elsewhere_event.session_id].reason_code == "session_mismatch"
    assert all(letter.service == "drafter" for _, letter in letters)
    assert harness.llm.calls == 0
    assert await harness.bus.total(events.DRAFT_CREATED) == 0


async def test_session_content_never_reaches_the_logs(harness, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    phrase = "gripping the table"
    # A first answer that fails validation while quoting the session, then a good one.
    harness.llm.reply(
        json.dumps({"subjective": {"sentences": [f"I just sat there {phrase}"]}}),
        harness.soap(subjective=f"The client said “I just sat there {phrase}”."),
    )
    await harness.send(harness.event(harness.transcript()))

    [(_, created)] = await harness.drafts(1)
    assert phrase in harness.open_note(created).sections[1].text
    assert harness.llm.calls == 2

    assert caplog.records, "the flow logged nothing; the check would prove nothing"
    assert any(r.getMessage() == "model_call_failed" for r in caplog.records)
    logged = caplog.text + "".join(
        f"{record.getMessage()} {vars(record)!r}" for record in caplog.records
    )
    for secret in (phrase, "panic attacks", "worry log"):
        assert secret not in logged.lower()
