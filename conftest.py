"""Fixtures shared by every test folder: the real servers, started once per run.

The stack (Kafka, S3, MongoDB wire server) starts on free ports under .data/test-stack
unless NOTEWELL_STACK_DIR names a stack that is already running. The language model
server starts only when a test asks for ``llm_env``.
"""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT))

from devstack import Stack  # noqa: E402


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    reuse = os.environ.get("NOTEWELL_STACK_DIR")
    if reuse:
        yield Stack(reuse, stop_at_exit=False)
        return
    # One stack folder per run, so concurrent runs never stop each other's servers.
    s = Stack(ROOT / ".data" / "test-stacks" / str(os.getpid()))
    s.up(llm=False)
    try:
        yield s
    finally:
        s.down(purge=True)


@pytest.fixture(scope="session")
def stack_env(stack: Stack) -> dict[str, str]:
    return dict(stack.env)


@pytest.fixture(scope="session")
def llm_env(stack: Stack) -> dict[str, str]:
    """Starts the real local model server (about 2 GB, 10-30 s) for tests that need it."""
    return dict(stack.up_llm())


@pytest.fixture
def service_env(stack_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """Environment for one service under test: the shared servers, a database of its
    own, topics of its own (a per-test prefix), a fresh local master key shared by
    every service in the test, an HS256 gateway secret for minting clinician tokens
    and a secret for service tokens."""
    env = dict(stack_env)
    env.update(
        MONGODB_DATABASE=f"t_{uuid.uuid4().hex[:12]}",
        KAFKA_TOPIC_PREFIX=f"t{uuid.uuid4().hex[:10]}.",
        LOCAL_MASTER_KEY_FILE=str(tmp_path / "master.key"),
        AUTH_HS256_SECRET="test-gateway-secret-" + uuid.uuid4().hex,
        SERVICE_AUTH_SECRET="test-service-secret-" + uuid.uuid4().hex,
        AUTH_ISSUER="notewell-gateway",
        AUTH_AUDIENCE="notewell",
        GRPC_PORT="0",
        LOG_LEVEL="INFO",
    )
    return env


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic-free names such as buckets and ids."""
    return uuid.uuid4().hex[:10]
