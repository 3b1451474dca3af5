"""One local stack: Tansu (Kafka), SeaweedFS (S3), jongodb (MongoDB), llama.cpp (LLM).

All state lives in one directory::

    D/logs/NAME.log     server output
    D/pids.json         running servers: pid, port, argv0, seconds to readiness
    D/stack.env         ``export K=V`` lines for a shell
    D/stack.json        the same variables as JSON
    D/s3.json           SeaweedFS identities (one random key pair per stack dir)
    D/seaweedfs/        SeaweedFS data (kept across ``down``/``up``)

Any process can ``down`` a stack another process started; servers started by this
``Stack`` object are also stopped when it leaves a ``with`` block or the interpreter
exits (``stop_at_exit``).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import http.client
import json
import logging
import os
import secrets
import shlex
import shutil
import struct
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devstack import probes, procs
from devstack.binaries import Binaries
from devstack.ports import HOST, free_ports

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = REPO_ROOT / ".data" / "stack"

SERVICES = ("kafka", "s3", "mongodb", "llm")
LLM_MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"
REGION = "us-east-1"
TANSU_BUCKET = "tansu"
READY_TIMEOUT = {"kafka": 20.0, "s3": 60.0, "mongodb": 30.0, "llm": 240.0}
START_ATTEMPTS = 2  # a second try with new ports covers a port taken meanwhile


class StackError(RuntimeError):
    """A server failed to start or become ready."""


@dataclass
class _Launch:
    """A started server that is not ready yet."""

    name: str
    popen: subprocess.Popen[bytes]
    port: int
    ready: Callable[[], bool]
    started: float

    @property
    def argv0(self) -> str:
        args = self.popen.args
        return str(args[0] if isinstance(args, list) else args)


class Stack:
    """Start, inspect and stop the servers of one stack directory."""

    def __init__(
        self,
        directory: str | os.PathLike[str] | None = None,
        *,
        kafka_storage: str = "memory",
        stop_at_exit: bool = True,
        binaries: Binaries | None = None,
    ) -> None:
        if kafka_storage not in ("memory", "s3"):
            raise ValueError("kafka_storage must be 'memory' or 's3'")
        self.dir = Path(directory).resolve() if directory else DEFAULT_DIR
        self.kafka_storage = kafka_storage
        self.binaries = binaries or Binaries.locate()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._stop_at_exit = stop_at_exit
        self._atexit_registered = False
        self._lock_depth = 0
        self._lock_file: Any = None

    # ------------------------------------------------------------------ public API

    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_started()

    @property
    def env(self) -> dict[str, str]:
        """The client variables of the running stack (from D/stack.json)."""
        try:
            return dict(json.loads((self.dir / "stack.json").read_text()))
        except FileNotFoundError:
            return {}

    def up(self, llm: bool = False) -> dict[str, str]:
        """Start Tansu, SeaweedFS and jongodb (and the LLM when ``llm``); return ``env``.

        Servers of this directory that are already running are kept as they are.
        """
        with self._locked():
            self._forget_dead()
            wanted = ["s3", "mongodb", "kafka"] + (["llm"] if llm else [])
            self._start(wanted)
            return self.env

    def up_llm(self) -> dict[str, str]:
        """Start only the llama.cpp server (about 2 GB RAM, 10-30 s to load)."""
        with self._locked():
            self._forget_dead()
            self._start(["llm"])
            return self.env

    def down(self, purge: bool = False) -> None:
        """Stop every server of this directory; ``purge`` also deletes data and logs."""
        if not self.dir.is_dir():
            return
        with self._locked():
            self._stop(list(self._read_pids()))
            for name in ("pids.json", "stack.env", "stack.json"):
                (self.dir / name).unlink(missing_ok=True)
            if purge:
                for name in ("seaweedfs", "logs", "s3.json"):
                    path = self.dir / name
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)

    def down_llm(self) -> None:
        if not self.dir.is_dir():
            return
        with self._locked():
            self._stop(["llm"])

    def stop_started(self) -> None:
        """Stop only the servers this object started (used by ``with`` and at exit)."""
        if not self.dir.is_dir():
            return
        with self._locked():
            mine = [n for n in self._read_pids() if n in self._children]
            if mine:
                self._stop(mine)
            if not self._read_pids():
                self.down()

    def status(self) -> dict[str, dict[str, Any]]:
        """Per server: pid, port, alive, log path and seconds it took to become ready."""
        result = {}
        for name, entry in self._read_pids().items():
            result[name] = {
                "pid": entry["pid"],
                "port": entry["port"],
                "alive": procs.is_running(entry["pid"], entry["argv0"]),
                "ready_s": entry.get("ready_s"),
                "log": str(self.dir / "logs" / f"{name}.log"),
            }
        return result

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise changes to one stack directory across processes (re-entrant)."""
        if self._lock_depth == 0:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._lock_file = open(self.dir / ".lock", "w")  # noqa: SIM115
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        self._lock_depth += 1
        try:
            yield
        finally:
            self._lock_depth -= 1
            if self._lock_depth == 0:
                self._lock_file.close()
                self._lock_file = None

    # ------------------------------------------------------------------ start

    def _start(self, names: list[str]) -> None:
        running = self._read_pids()
        todo = [n for n in names if n not in running]
        if not todo:
            log.info("already running: %s", ", ".join(names))
            self._write_env()
            return
        self._check_binaries(todo)
        self._register_atexit()

        # The LLM takes longest to load: start it first and wait for it last.
        order = sorted(todo, key=lambda n: 0 if n == "llm" else 1)
        if self.kafka_storage == "s3" and "kafka" in order:
            # Tansu keeps its log in a SeaweedFS bucket, so SeaweedFS must be ready first.
            order.remove("kafka")
            if order:
                self._launch_and_wait(order)
            self._launch_and_wait(["kafka"])
        else:
            self._launch_and_wait(order)
        if "mongodb" in todo:
            self._verify_mongodb_uri()
        self._write_env()

    def _launch_and_wait(self, names: list[str]) -> None:
        """Start ``names`` together and poll them until all are ready.

        On any failure every server started here is stopped again.
        """
        try:
            pending = [self._launch(name) for name in names]
            attempts = dict.fromkeys(names, 1)
            while pending:
                still = []
                for launch in pending:
                    outcome = self._poll(launch)
                    if outcome == "ready":
                        continue
                    if outcome == "waiting":
                        still.append(launch)
                        continue
                    still.append(self._retry_or_fail(launch, outcome, attempts))
                pending = still
                if pending:
                    time.sleep(0.05)
        except BaseException:
            recorded = set(self._read_pids())
            self._stop([n for n in names if n in recorded])
            for name in names:
                popen = self._children.pop(name, None)
                if popen is not None and popen.poll() is None:
                    procs.stop_sessions([(name, popen.pid)], 5.0, {popen.pid: popen})
            raise

    def _poll(self, launch: _Launch) -> str:
        """One readiness check: 'ready', 'waiting', 'exited' or 'timeout'."""
        try:
            ready = launch.ready()
        except (OSError, ValueError, struct.error, http.client.HTTPException):
            # A server still starting may accept a request, then drop or garble it.
            ready = False
        if ready:
            seconds = round(time.monotonic() - launch.started, 2)
            self._record(launch.name, launch, seconds)
            log.info("%s ready on port %d in %.2fs", launch.name, launch.port, seconds)
            return "ready"
        if launch.popen.poll() is not None:
            return "exited"
        if time.monotonic() - launch.started > READY_TIMEOUT[launch.name]:
            return "timeout"
        return "waiting"

    def _retry_or_fail(
        self, launch: _Launch, outcome: str, attempts: dict[str, int]
    ) -> _Launch:
        name = launch.name
        popen = launch.popen
        procs.stop_sessions([(name, popen.pid)], 5.0, {popen.pid: popen})
        self._children.pop(name, None)
        tail = self._log_tail(name)
        if outcome == "exited" and attempts[name] < START_ATTEMPTS:
            # Most often a free port was taken by someone else before the server bound it.
            attempts[name] += 1
            log.warning("%s exited during start-up; retrying on new ports", name)
            return self._launch(name)
        reason = (
            "exited"
            if outcome == "exited"
            else (f"was not ready after {READY_TIMEOUT[name]:.0f}s")
        )
        raise StackError(f"{name} {reason}; last lines of its log:\n{tail}")

    def _launch(self, name: str) -> _Launch:
        launcher = {
            "kafka": self._launch_tansu,
            "s3": self._launch_seaweedfs,
            "mongodb": self._launch_jongodb,
            "llm": self._launch_llm,
        }[name]
        return launcher()

    def _spawn(
        self, name: str, argv: list[str], env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        log_path = self.dir / "logs" / f"{name}.log"
        popen = procs.spawn(argv, log_path, cwd=self.dir, env=env)
        self._children[name] = popen
        log.debug("started %s pid %d: %s", name, popen.pid, shlex.join(argv))
        return popen

    def _launch_seaweedfs(self) -> _Launch:
        access_key, secret_key = self._credentials()
        data = self.dir / "seaweedfs"
        data.mkdir(parents=True, exist_ok=True)
        # Every listener gets its own free port (gRPC ports default to +10000, and the
        # admin server listens even with its UI off) so several stacks can coexist.
        (
            s3,
            s3_grpc,
            master,
            master_grpc,
            volume,
            volume_grpc,
            filer,
            filer_grpc,
            admin,
            admin_grpc,
        ) = free_ports(10)
        argv = [
            str(self.binaries.weed),
            "mini",
            f"-dir={data}",
            f"-ip={HOST}",
            f"-ip.bind={HOST}",
            "-master.telemetry=false",
            "-webdav=false",
            "-admin.ui=false",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={self.dir / 's3.json'}",
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-admin.port={admin}",
            f"-admin.port.grpc={admin_grpc}",
        ]
        popen = self._spawn("s3", argv)
        return _Launch(
            "s3",
            popen,
            s3,
            lambda: probes.s3_ready(s3, access_key, secret_key, REGION),
            time.monotonic(),
        )

    def _launch_tansu(self) -> _Launch:
        (port,) = free_ports(1)
        url = f"tcp://{HOST}:{port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        if self.kafka_storage == "s3":
            s3_port = self._read_pids()["s3"]["port"]
            access_key, secret_key = self._credentials()
            probes.s3_ensure_bucket(s3_port, TANSU_BUCKET, access_key, secret_key, REGION)
            storage = f"s3://{TANSU_BUCKET}/"
            env.update(
                AWS_ENDPOINT=f"http://{HOST}:{s3_port}",
                AWS_ACCESS_KEY_ID=access_key,
                AWS_SECRET_ACCESS_KEY=secret_key,
                AWS_REGION=REGION,
                AWS_ALLOW_HTTP="true",
            )
        else:
            storage = "memory://tansu/"
        argv = [
            str(self.binaries.tansu),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            storage,
        ]
        popen = self._spawn("kafka", argv, env)
        return _Launch(
            "kafka", popen, port, lambda: probes.kafka_ready(port), time.monotonic()
        )

    def _launch_jongodb(self) -> _Launch:
        (port,) = free_ports(1)
        argv = [
            str(self.binaries.jongodb),
            f"--host={HOST}",
            f"--port={port}",
            "--topology-profile=singleNodeReplicaSet",
            "--replica-set-name=rs0",
        ]
        popen = self._spawn("mongodb", argv)
        return _Launch(
            "mongodb", popen, port, lambda: probes.mongo_ready(port), time.monotonic()
        )

    def _launch_llm(self) -> _Launch:
        (port,) = free_ports(1)
        argv = [
            str(self.binaries.llm_python),
            "-m",
            "llama_cpp.server",
            "--model",
            str(self.binaries.model),
            "--model_alias",
            LLM_MODEL_ALIAS,
            "--host",
            HOST,
            "--port",
            str(port),
            "--n_threads",
            "2",
            "--n_ctx",
            "8192",
        ]
        popen = self._spawn("llm", argv)
        return _Launch(
            "llm", popen, port, lambda: probes.llm_ready(port), time.monotonic()
        )

    def _check_binaries(self, names: list[str]) -> None:
        needed = {
            "kafka": ["tansu"],
            "s3": ["weed"],
            "mongodb": ["jongodb"],
            "llm": ["llm_python", "model"],
        }
        self.binaries.require(*[b for n in names for b in needed[n]])

    # ------------------------------------------------------------------ stop

    def _stop(self, names: list[str]) -> None:
        pids = self._read_pids()
        sessions = []
        for name in names:
            entry = pids.get(name)
            if entry is None:
                continue
            pid = entry["pid"]
            if procs.is_running(pid, entry["argv0"]) or (
                not Path(f"/proc/{pid}").exists() and procs.session_members(pid)
            ):
                sessions.append((name, pid))
        reap = {p.pid: p for n, p in self._children.items() if n in names}
        procs.stop_sessions(sessions, grace=10.0, reap=reap)
        for name in names:
            self._children.pop(name, None)
            pids.pop(name, None)
        self._write_pids(pids)
        if pids:
            self._write_env()

    def _register_atexit(self) -> None:
        if self._stop_at_exit and not self._atexit_registered:
            atexit.register(self.stop_started)
            self._atexit_registered = True

    # ------------------------------------------------------------------ state files

    def _credentials(self) -> tuple[str, str]:
        """The S3 key pair, made once per stack directory with its identities file."""
        path = self.dir / "s3.json"
        if not path.exists():
            identity = {
                "name": "notewell-dev",
                "credentials": [
                    {
                        "accessKey": "NW" + secrets.token_hex(9).upper(),
                        "secretKey": secrets.token_urlsafe(30),
                    }
                ],
                "actions": ["Admin", "Read", "List", "Tagging", "Write"],
            }
            _write_private(path, json.dumps({"identities": [identity]}, indent=2))
        credential = json.loads(path.read_text())["identities"][0]["credentials"][0]
        return credential["accessKey"], credential["secretKey"]

    def _read_pids(self) -> dict[str, dict[str, Any]]:
        try:
            return dict(json.loads((self.dir / "pids.json").read_text()))
        except FileNotFoundError:
            return {}

    def _write_pids(self, pids: dict[str, dict[str, Any]]) -> None:
        path = self.dir / "pids.json"
        if pids:
            _write_private(path, json.dumps(pids, indent=2, sort_keys=True))
        else:
            path.unlink(missing_ok=True)

    def _record(self, name: str, launch: _Launch, ready_s: float) -> None:
        pids = self._read_pids()
        pids[name] = {
            "pid": launch.popen.pid,
            "argv0": launch.argv0,
            "port": launch.port,
            "ready_s": ready_s,
        }
        self._write_pids(pids)

    def _forget_dead(self) -> None:
        """Drop entries of servers that are no longer running (a crash, a reboot)."""
        pids = self._read_pids()
        dead = [n for n, e in pids.items() if not procs.is_running(e["pid"], e["argv0"])]
        if dead:
            log.warning("not running any more, will restart: %s", ", ".join(dead))
            self._stop(dead)

    def _write_env(self) -> None:
        pids = self._read_pids()
        env: dict[str, str] = {}
        if "kafka" in pids:
            env["KAFKA_BOOTSTRAP_SERVERS"] = f"{HOST}:{pids['kafka']['port']}"
        if "mongodb" in pids:
            env["MONGODB_URI"] = self._mongodb_uri(pids["mongodb"]["port"])
        if "s3" in pids:
            access_key, secret_key = self._credentials()
            env["S3_ENDPOINT_URL"] = f"http://{HOST}:{pids['s3']['port']}"
            env["AWS_ACCESS_KEY_ID"] = access_key
            env["AWS_SECRET_ACCESS_KEY"] = secret_key
            env["AWS_REGION"] = REGION
        if "llm" in pids:
            env["OPENAI_BASE_URL"] = f"http://{HOST}:{pids['llm']['port']}/v1"
            env["OPENAI_API_KEY"] = "local"
            env["LLM_MODEL"] = LLM_MODEL_ALIAS
        lines = "".join(f"export {k}={shlex.quote(v)}\n" for k, v in env.items())
        _write_private(self.dir / "stack.env", lines)
        _write_private(self.dir / "stack.json", json.dumps(env, indent=2) + "\n")

    @staticmethod
    def _mongodb_uri(port: int) -> str:
        # PyMongo's streaming server monitor spins against jongodb (about a fifth of a
        # core per idle client); polling monitors cost next to nothing.
        return f"mongodb://{HOST}:{port}/?replicaSet=rs0&serverMonitoringMode=poll"

    def _verify_mongodb_uri(self) -> None:
        """Check the URI with pymongo when it is importable.

        ``?replicaSet=rs0`` is the form that works: with ``directConnection=true``
        PyMongo reads with primaryPreferred, which jongodb's single-node profile rejects.
        """
        try:
            import pymongo
        except ImportError:
            return
        uri = self._mongodb_uri(self._read_pids()["mongodb"]["port"])
        client: Any = pymongo.MongoClient(uri, serverSelectionTimeoutMS=5000)
        try:
            client.admin.command("ping")
        except Exception as err:  # any failure means the URI is unusable
            raise StackError(f"pymongo cannot use {uri}: {err}") from err
        finally:
            client.close()

    def _log_tail(self, name: str, lines: int = 20) -> str:
        try:
            text = (self.dir / "logs" / f"{name}.log").read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


def _write_private(path: Path, text: str) -> None:
    """Atomically write a file readable only by its owner (it may hold secrets)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)
