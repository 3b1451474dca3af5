"""The ``Transcripts`` gRPC service: stored transcripts (sealed) and the progress of
transcriptions, each answered only to the session's clinician."""

from __future__ import annotations

from typing import Any

import grpc

from notewell.common.v1.common_pb2 import SealedBox
from notewell.platform.auth import TokenVerifier
from notewell.transcriber.progress import Progress
from notewell.transcriber.sessions import (
    CONSENT_DECLINED,
    CONSENT_WITHDRAWN,
    TRANSCRIBED,
    Sessions,
    facts_of,
)
from notewell.transcripts.v1 import transcripts_pb2 as pb
from notewell.transcripts.v1 import transcripts_pb2_grpc as pb_grpc

STATES = {
    TRANSCRIBED: pb.TRANSCRIPTION_STATE_DONE,
    CONSENT_DECLINED: pb.TRANSCRIPTION_STATE_CONSENT_DECLINED,
    CONSENT_WITHDRAWN: pb.TRANSCRIPTION_STATE_CONSENT_WITHDRAWN,
}


class TranscriptsService(pb_grpc.TranscriptsServicer):
    def __init__(
        self, sessions: Sessions, progress: Progress, verifier: TokenVerifier
    ) -> None:
        self._sessions = sessions
        self._progress = progress
        self._verifier = verifier

    async def GetTranscript(
        self, request: pb.GetTranscriptRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetTranscriptResponse:
        clinician = await self._verifier.clinician_of(context)
        document = await self._sessions.find(request.session_id)
        if not _owned(document, clinician) or "transcript" not in document:
            await context.abort(grpc.StatusCode.NOT_FOUND, "no such transcript")
        box = SealedBox()
        box.ParseFromString(document["transcript"])
        return pb.GetTranscriptResponse(
            session_id=request.session_id,
            transcript_id=document.get("transcript_id", ""),
            session=facts_of(document),
            transcript=box,
        )

    async def GetTranscriptionStatus(
        self, request: pb.GetTranscriptionStatusRequest, context: grpc.aio.ServicerContext
    ) -> pb.TranscriptionStatus:
        clinician = await self._verifier.clinician_of(context)
        document = await self._sessions.find(request.session_id)
        if _owned(document, clinician) and document.get("status") in STATES:
            state = STATES[document["status"]]
            percent = 100 if state == pb.TRANSCRIPTION_STATE_DONE else 0
            return pb.TranscriptionStatus(
                session_id=request.session_id, state=state, percent=percent
            )
        running = await self._progress.status(request.session_id)
        if document is None and _owned(running, clinician):
            return pb.TranscriptionStatus(
                session_id=request.session_id,
                state=pb.TRANSCRIPTION_STATE_RUNNING,
                percent=int(running.get("percent", 0)),
            )
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such session")
        raise AssertionError("unreachable")


def _owned(document: dict[str, Any] | None, clinician: str) -> bool:
    return document is not None and document.get("clinician_id") == clinician
