"""A scripted stand-in for an OpenAI-compatible chat completions server, for tests.

It listens on 127.0.0.1 on a free port, in a background thread, and answers
``POST /v1/chat/completions`` with replies the test decides::

    with ScriptedLLM() as llm:
        env["OPENAI_BASE_URL"] = llm.base_url    # "http://127.0.0.1:<port>/v1"
        llm.reply('{"points": []}', '{"subjective": ...}')   # used in order
        llm.respond = lambda messages, response_format: "..."  # used when none queued
        ...
        assert len(llm.requests) == 2
        assert "[u3] CLIENT:" in llm.requests[0].prompt

What a call gets, first match wins:

1. ``fail_all(status)`` or ``hang_all()`` was called: every call fails with that HTTP
   status, or hangs until ``recover()`` or ``stop()``;
2. the queue is not empty: its next item, either a reply text or ``Fail(status)`` /
   ``Hang()`` / ``Trickle(text, pause)`` for that one call;
3. ``respond`` is set: ``respond(messages, response_format)`` returns the reply text
   (raising makes the call fail with HTTP 500);
4. otherwise HTTP 500, counted in ``unscripted``.

Replies are streamed as server-sent events when the request asks for ``"stream": true``,
and sent whole otherwise. Every call is recorded in ``requests`` (failed and hanging
ones too), in arrival order. ``closed_streams`` counts streamed replies whose caller
closed the connection before the end (seen at the next write, so within a ``Trickle``
pause or two).
``GET /v1/models`` lists one model, for readiness probes.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Respond = Callable[[list[dict[str, Any]], dict[str, Any] | None], str]

MODEL = "scripted-model"


@dataclass(frozen=True)
class Fail:
    """Fail one call with this HTTP status."""

    status: int = 500


@dataclass(frozen=True)
class Hang:
    """Hold one call open without answering for ``seconds`` (or until released)."""

    seconds: float = 3600.0


@dataclass(frozen=True)
class Trickle:
    """Stream ``content`` to one call in small pieces, ``pause`` seconds apart (sent
    whole, after the pauses, to a caller that did not ask for a stream)."""

    content: str
    pause: float = 0.1


Item = str | Fail | Hang | Trickle


@dataclass(frozen=True)
class Request:
    """One call as the server received it."""

    path: str
    body: dict[str, Any]
    received_at: float = field(default_factory=time.monotonic)

    @property
    def messages(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.body.get("messages") or []
        return messages

    @property
    def response_format(self) -> dict[str, Any] | None:
        fmt: dict[str, Any] | None = self.body.get("response_format")
        return fmt

    @property
    def schema(self) -> dict[str, Any] | None:
        """The JSON schema the caller asked the answer to follow, in either the
        ``json_object`` + ``schema`` or the ``json_schema`` form."""
        fmt = self.response_format or {}
        schema: dict[str, Any] | None = fmt.get("schema")
        if schema is None:
            schema = (fmt.get("json_schema") or {}).get("schema")
        return schema

    @property
    def prompt(self) -> str:
        """Every message's text, joined by blank lines."""
        return "\n\n".join(str(m.get("content", "")) for m in self.messages)


class ScriptedLLM:
    def __init__(
        self, replies: list[Item] | None = None, respond: Respond | None = None
    ) -> None:
        self.respond = respond
        self.requests: list[Request] = []
        self.unscripted = 0
        self.closed_streams = 0
        self._queue: deque[Item] = deque(replies or [])
        self._always: Item | None = None
        self._lock = threading.Lock()
        self._released = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ScriptedLLM:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        server.daemon_threads = True
        # Hanging calls must not hold up stop().
        server.block_on_close = False
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="scripted-llm", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release_hanging()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("ScriptedLLM is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """What OPENAI_BASE_URL should be set to."""
        return f"http://127.0.0.1:{self.port}/v1"

    # ------------------------------------------------------------------ script

    def reply(self, *items: Item) -> None:
        """Queues replies (texts, ``Fail`` or ``Hang``) for the next calls, in order."""
        with self._lock:
            self._queue.extend(items)

    def fail_all(self, status: int = 500) -> None:
        """Every call from now on fails with ``status``."""
        with self._lock:
            self._always = Fail(status)

    def hang_all(self) -> None:
        """Every call from now on hangs until ``recover()`` or ``stop()``."""
        with self._lock:
            self._always = Hang()

    def recover(self) -> None:
        """Back to the queue and ``respond``; calls hanging now are answered HTTP 503."""
        with self._lock:
            self._always = None
        self._release_hanging()

    def _release_hanging(self) -> None:
        # Calls hanging now wait on the old event; later hangs wait on a fresh one.
        with self._lock:
            released, self._released = self._released, threading.Event()
        released.set()

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.requests)

    def requests_for(self, schema_property: str) -> list[Request]:
        """The calls whose answer schema has ``schema_property`` at its top level, e.g.
        ``"points"`` or ``"subjective"``."""
        with self._lock:
            recorded = list(self.requests)
        return [
            r
            for r in recorded
            if schema_property in ((r.schema or {}).get("properties") or {})
        ]

    # ------------------------------------------------------------------ serving

    def _next(self, request: Request) -> tuple[Item, threading.Event]:
        """What to answer, and the event that ends a hang."""
        with self._lock:
            self.requests.append(request)
            released = self._released
            if self._always is not None:
                return self._always, released
            if self._queue:
                return self._queue.popleft(), released
            respond = self.respond
            if respond is None:
                self.unscripted += 1
                return Fail(500), released
        try:
            return respond(request.messages, request.response_format), released
        except Exception:
            return Fail(500), released


def _handler_for(llm: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            # Request lines would end up on stderr of every test run.
            pass

        def do_GET(self) -> None:
            if self.path.rstrip("/").endswith("/models"):
                self._send(
                    200,
                    {
                        "object": "list",
                        "data": [{"id": MODEL, "object": "model", "owned_by": "tests"}],
                    },
                )
            else:
                self._send(404, _error("not found"))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                self._send(400, _error("request body is not JSON"))
                return
            if not self.path.rstrip("/").endswith("/chat/completions"):
                self._send(404, _error("not found"))
                return

            item, released = llm._next(Request(self.path, body))
            if isinstance(item, Hang):
                released.wait(item.seconds)
                self._send(503, _error("released from a scripted hang"))
            elif isinstance(item, Fail):
                self._send(item.status, _error("scripted failure"))
            elif isinstance(item, Trickle):
                if body.get("stream"):
                    self._stream(item.content, body, item.pause, released)
                else:
                    released.wait(item.pause * len(_chunks(item.content, body)))
                    self._send(200, _completion(item.content, body))
            elif body.get("stream"):
                self._stream(item, body)
            else:
                self._send(200, _completion(item, body))

        def _stream(
            self,
            content: str,
            body: dict[str, Any],
            pause: float = 0.0,
            released: threading.Event | None = None,
        ) -> None:
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                for chunk in _chunks(content, body):
                    if pause and released is not None and released.wait(pause):
                        return
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                with llm._lock:
                    llm.closed_streams += 1

        def _send(self, status: int, payload: dict[str, Any]) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                # The client gave up (a timeout); nothing left to answer.
                pass

    return Handler


def _error(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "server_error", "code": None}}


def _chunks(content: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The reply as streamed chat.completion.chunk objects, a few characters each."""
    common = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
    }
    pieces = [content[i : i + 16] for i in range(0, len(content), 16)] or [""]
    chunks = [
        {
            **common,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": piece}
                    if n == 0
                    else {"content": piece},
                    "finish_reason": None,
                }
            ],
        }
        for n, piece in enumerate(pieces)
    ]
    chunks.append(
        {**common, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    )
    return chunks


def _completion(content: str, body: dict[str, Any]) -> dict[str, Any]:
    prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
    prompt_tokens = prompt_chars // 4
    completion_tokens = len(content) // 4
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body.get("model") or MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }
