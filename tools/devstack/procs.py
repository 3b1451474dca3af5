"""Start servers in their own sessions and stop whole process groups.

A recorded pid is only trusted while /proc shows the same executable, so a pid reused
by an unrelated program after a reboot is never signalled.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def spawn(
    argv: list[str], log_path: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` as the leader of a new session, output appended to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as out:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        out.write(f"\n==== {stamp} {' '.join(argv)}\n".encode())
        out.flush()
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may contain spaces; fields resume after the last ')'.
    return raw[raw.rindex(")") + 2 :].split()


def _argv0(pid: int) -> str | None:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    return raw.split(b"\x00", 1)[0].decode(errors="replace") if raw else None


def is_running(pid: int, argv0: str) -> bool:
    """True when ``pid`` is a live (non-zombie) process started as ``argv0``."""
    fields = _stat_fields(pid)
    if fields is None or fields[0] in ("Z", "X"):
        return False
    return _argv0(pid) == argv0


def session_members(sid: int) -> list[int]:
    """Live processes in session ``sid``: a server and anything it forked."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _stat_fields(int(entry.name))
        # fields: state, ppid, pgrp, session, ...
        if fields and fields[0] not in ("Z", "X") and int(fields[3]) == sid:
            members.append(int(entry.name))
    return members


def _signal_session(sid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(sid, sig)
    # Members that moved to another group inside the session are signalled one by one.
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def stop_sessions(
    sessions: Iterable[tuple[str, int]],
    grace: float = 10.0,
    reap: Mapping[int, subprocess.Popen[bytes]] | None = None,
) -> None:
    """SIGTERM every (name, sid) session, wait up to ``grace`` s, then SIGKILL the rest.

    ``reap`` holds Popen objects for children of this process, so they do not stay
    behind as zombies.
    """
    reap = reap or {}
    pending = dict(sessions)
    for name, sid in pending.items():
        log.info("stopping %s (pid %d)", name, sid)
        _signal_session(sid, signal.SIGTERM)

    deadline = time.monotonic() + grace
    while pending and time.monotonic() < deadline:
        for popen in reap.values():
            popen.poll()
        pending = {n: s for n, s in pending.items() if session_members(s)}
        if pending:
            time.sleep(0.1)

    for name, sid in pending.items():
        log.warning("%s did not stop within %.0fs; sending SIGKILL", name, grace)
        _signal_session(sid, signal.SIGKILL)
    end = time.monotonic() + 5
    while pending and time.monotonic() < end:
        for popen in reap.values():
            popen.poll()
        pending = {n: s for n, s in pending.items() if session_members(s)}
        if pending:
            time.sleep(0.05)
    for popen in reap.values():
        try:
            popen.wait(timeout=1)
        except subprocess.TimeoutExpired:
            log.error("pid %d could not be reaped", popen.pid)
    if pending:
        log.error("still running after SIGKILL: %s", ", ".join(pending))
