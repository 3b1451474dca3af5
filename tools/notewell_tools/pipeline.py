"""Runs every service as its own process against a running stack, as Kubernetes would,
and drives a session through it. Used by `make demo` and the end-to-end tests."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import grpc
from botocore.config import Config
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health_pb2, health_pb2_grpc

from notewell.common.v1.common_pb2 import MODALITY_TELEHEALTH
from notewell.events.v1.events_pb2 import SessionEnded
from notewell.exporter.v1 import exporter_pb2, exporter_pb2_grpc
from notewell.notes.v1 import note_pb2, notes_store_pb2, notes_store_pb2_grpc
from notewell.platform import auth, events
from notewell.platform.settings import PlatformSettings

ROOT = Path(__file__).resolve().parents[2]

# Service name -> (python module, MongoDB database).
SERVICES: dict[str, tuple[str, str | None]] = {
    "transcriber": ("notewell.transcriber", "notewell_transcriber"),
    "drafter": ("notewell.drafter", "notewell_drafter"),
    "notes-store": ("notewell.notes_store", "notewell_notes"),
    "exporter": ("notewell.exporter", "notewell_exporter"),
    "prompts": ("notewell.prompts", "notewell_prompts"),
}

PARTNER_BUCKET = "partner-uploads"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Pipeline:
    """The five services, started as processes with the stack's environment."""

    stack_env: Mapping[str, str]
    workdir: Path
    topic_prefix: str = ""
    database_prefix: str = ""
    extra_env: Mapping[str, str] = field(default_factory=dict)
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(exist_ok=True)
        secret_file = self.workdir / "gateway.secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)
        self.gateway_secret = secret_file.read_text()
        service_secret_file = self.workdir / "service.secret"
        if not service_secret_file.exists():
            service_secret_file.write_text(secrets.token_urlsafe(32))
            service_secret_file.chmod(0o600)
        self.service_secret = service_secret_file.read_text()

    # -- environment -------------------------------------------------------------

    def common_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTEWELL_")}
        env.update(self.stack_env)
        env.update(
            LOCAL_MASTER_KEY_FILE=str(self.workdir / "master.key"),
            AUTH_HS256_SECRET=self.gateway_secret,
            SERVICE_AUTH_SECRET=self.service_secret,
            AUTH_ISSUER="notewell-gateway",
            AUTH_AUDIENCE="notewell",
            KAFKA_TOPIC_PREFIX=self.topic_prefix,
            PYTHONUNBUFFERED="1",
        )
        env.update(self.extra_env)
        return env

    @property
    def settings(self) -> PlatformSettings:
        return PlatformSettings(**self.common_env())

    def token(self, clinician_id: str, ttl_seconds: int = 900) -> str:
        return auth.mint_token(self.settings, clinician_id, ttl_seconds)

    # -- processes ---------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> None:
        for name in SERVICES:
            self.ports[name] = _free_port()
        for name in SERVICES:
            self._spawn(name)
        deadline = time.monotonic() + timeout
        for name in SERVICES:
            self._wait_healthy(name, deadline)

    def _spawn(self, name: str) -> None:
        module, database = SERVICES[name]
        env = self.common_env()
        env.update(SERVICE_NAME=name, GRPC_PORT=str(self.ports[name]))
        if database:
            env["MONGODB_DATABASE"] = self.database_prefix + database
        # The drafter, prompts and exporter read from the notes store.
        env["NOTES_STORE_ADDRESS"] = f"127.0.0.1:{self.ports['notes-store']}"
        with self.log_path(name).open("ab") as log:
            self.procs[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=ROOT,
                start_new_session=True,
            )

    def _wait_healthy(self, name: str, deadline: float) -> None:
        address = f"127.0.0.1:{self.ports[name]}"
        while True:
            proc = self.procs[name]
            if proc.poll() is not None:
                raise RuntimeError(
                    f"{name} exited with {proc.returncode}; see {self.log_path(name)}"
                )
            try:
                with grpc.insecure_channel(address) as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=""), timeout=1
                    )
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{name} did not become healthy; see {self.log_path(name)}"
                )
            time.sleep(0.2)

    def log_path(self, name: str) -> Path:
        return self.workdir / "logs" / f"{name}.log"

    def kill(self, name: str) -> None:
        """Kills one service at once, as a crash would."""
        proc = self.procs[name]
        proc.kill()
        proc.wait(10)

    def restart(self, name: str, timeout: float = 60.0) -> None:
        self._spawn(name)
        self._wait_healthy(name, time.monotonic() + timeout)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + 15
        for proc in self.procs.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.clear()

    # -- driving a session -------------------------------------------------------

    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.stack_env.get("S3_ENDPOINT_URL"),
            region_name=self.stack_env.get("AWS_REGION", "us-east-1"),
            aws_access_key_id=self.stack_env.get("AWS_ACCESS_KEY_ID"),
            aws_secret_access_key=self.stack_env.get("AWS_SECRET_ACCESS_KEY"),
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def upload_transcript(self, session_id: str, transcript: dict[str, Any]) -> str:
        """Stores a partner transcript as a partner would; returns its s3:// URI."""
        s3 = self.s3()
        try:
            s3.create_bucket(Bucket=PARTNER_BUCKET)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass
        except s3.exceptions.ClientError as exc:
            if "BucketAlreadyExists" not in str(exc):
                raise
        key = f"sessions/{session_id}/transcript.json"
        s3.put_object(
            Bucket=PARTNER_BUCKET, Key=key, Body=json.dumps(transcript).encode()
        )
        return f"s3://{PARTNER_BUCKET}/{key}"


def session_ended(
    session_id: str,
    clinician_id: str,
    client_id: str,
    transcript_uri: str,
    duration_seconds: float,
    consent: bool = True,
    ended_at: datetime | None = None,
) -> SessionEnded:
    """A session.ended event for a session that just finished."""
    end = ended_at or datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(seconds=round(duration_seconds))
    scheduled_start = start.replace(second=0)

    def ts(moment: datetime) -> Timestamp:
        stamp = Timestamp()
        stamp.FromDatetime(moment)
        return stamp

    return SessionEnded(
        event_id=str(uuid.uuid4()),
        session_id=session_id,
        clinician_id=clinician_id,
        client_id=client_id,
        scheduled_start=ts(scheduled_start),
        scheduled_end=ts(scheduled_start + timedelta(minutes=50)),
        actual_start=ts(start),
        actual_end=ts(end),
        modality=MODALITY_TELEHEALTH,
        transcription_consent=consent,
        transcript_uri=transcript_uri,
        partner_id="demo-telehealth",
        occurred_at=events.now_timestamp(),
    )


class NotesClient:
    """The frontend's view: notes-store and exporter over gRPC with a clinician token."""

    def __init__(self, pipeline: Pipeline, clinician_id: str) -> None:
        self.metadata = auth.bearer(pipeline.token(clinician_id))
        self._notes = grpc.insecure_channel(f"127.0.0.1:{pipeline.ports['notes-store']}")
        self._exporter = grpc.insecure_channel(f"127.0.0.1:{pipeline.ports['exporter']}")
        self.notes = notes_store_pb2_grpc.NotesStoreStub(self._notes)
        self.exports = exporter_pb2_grpc.ExporterStub(self._exporter)

    def close(self) -> None:
        self._notes.close()
        self._exporter.close()

    def list_notes(self, client_id: str) -> list[note_pb2.Note]:
        reply = self.notes.ListNotes(
            notes_store_pb2.ListNotesRequest(client_id=client_id),
            metadata=self.metadata,
            timeout=10,
        )
        return list(reply.notes)

    def get_note(self, note_id: str) -> note_pb2.Note:
        return self.notes.GetNote(  # type: ignore[no-any-return]
            notes_store_pb2.GetNoteRequest(note_id=note_id),
            metadata=self.metadata,
            timeout=10,
        )

    def save_note(self, note: note_pb2.Note) -> note_pb2.Note:
        return self.notes.SaveNote(  # type: ignore[no-any-return]
            notes_store_pb2.SaveNoteRequest(
                note_id=note.note_id, base_version=note.version
            ),
            metadata=self.metadata,
            timeout=10,
        )

    def export(self, note_id: str) -> exporter_pb2.ExportNoteResponse:
        return self.exports.ExportNote(  # type: ignore[no-any-return]
            exporter_pb2.ExportNoteRequest(note_id=note_id),
            metadata=self.metadata,
            timeout=60,
        )

    def wait_for_draft(
        self, client_id: str, session_id: str, timeout: float, poll: float = 0.5
    ) -> note_pb2.Note:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for note in self.list_notes(client_id):
                if note.session_id == session_id:
                    return note
            time.sleep(poll)
        raise TimeoutError("no draft appeared in time")
