"""Reusable base for local fake provider servers.

A `FakeServer` is a `ThreadingHTTPServer` on 127.0.0.1 (port 0, so the OS picks a free port) served from a daemon
thread. Every request is recorded (`fake.requests`) and answered, in this order, by:

1. routing (unknown path -> 404), JSON parsing (-> 400), authentication (-> 401) and request validation (-> 400),
   all provider-specific and done *before* anything scripted is consumed, like the real API;
2. fault injection, leaving the queue untouched: a `FaultPlan` (`faults=`, see `fakes.faults`) answers a seeded
   fraction of requests with a fault of several kinds, counted per kind; the simpler `fault_rate` answers them with
   one `fault`, drawn from a seeded `random.Random` in arrival order;
3. the FIFO queue of scripted responses (`enqueue`, `reply`, `error`, `raw`, `delay`, `disconnect`);
4. `fake.responder(request)`, when set and the queue is empty: picks the answer from the request itself (e.g. from
   the system prompt and the number of turns so far), so parallel clients get deterministic answers whatever the
   order their requests arrive in; returning None falls through to
5. `fake.default`.

Scripted responses are `Reply`, `Error`, `Raw`, `Delay` and `Disconnect`; the provider subclass turns `Reply` and
`Error` into its own wire format. Use it as a context manager (`with FakeAnthropic() as fake: ...`) or make a
pytest fixture with `FakeAnthropic.fixture("fake_anthropic")`.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import random
import socket
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar, Self, TypeAlias
from urllib.parse import urlsplit

from .faults import CUT_OFF_TEXT, FAULT_ID_MARK, UNKNOWN_TOOL, FaultPlan, wrong_types

MAX_BODY_BYTES = 64 * 1024 * 1024
MAX_CHUNKS = 100_000
MAX_DELAY_CHAIN = 16
JOIN_TIMEOUT = 5.0


def canonical_json(value: Any) -> str:
    """The one serialisation used for token counting and cache hashing: sorted keys, no spaces, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def tokens_for_chars(chars: int) -> int:
    """The fakes' offline tokenizer: ceil(chars / 4)."""
    return math.ceil(chars / 4)


def count_tokens(value: Any) -> int:
    """ceil(len(canonical_json(value)) / 4)."""
    return tokens_for_chars(len(canonical_json(value)))


# --------------------------------------------------------------------------------------------------------------------
# Scripted responses


@dataclass(frozen=True)
class ToolCall:
    """A tool call in a scripted reply. `id` defaults to a generated `toolu_...` / `call_...` id.

    `raw_arguments` (OpenAI only) is sent verbatim as `function.arguments` instead of `json.dumps(input)`, so it can
    be invalid JSON.
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    raw_arguments: str | None = None


@dataclass(frozen=True)
class Reply:
    """A successful model reply, rendered in the provider's format.

    - `text`: one text block / `message.content` (None: no text).
    - `tool_calls`: tool_use blocks / `message.tool_calls`.
    - `stop_reason`: `stop_reason` / `finish_reason`; default tool_use|end_turn (Anthropic), tool_calls|stop (OpenAI).
    - `usage`: merged over the computed usage (e.g. `{"output_tokens": 7}`; OpenAI also accepts a `cached_tokens`
      shortcut for `prompt_tokens_details.cached_tokens`).
    - `omit_usage`: leave `usage` out of the body entirely (some local OpenAI-compatible servers do).
    - `extra_blocks` (Anthropic): raw content blocks placed before the text/tool_use blocks, e.g. `server_tool_use`.
    - `content` (Anthropic): the full content list verbatim (overrides text, tool_calls and extra_blocks).
    - `extra`: top-level keys merged into the response JSON (e.g. llama.cpp's `timings`).
    - `headers`: extra response headers. `model`: reported model (default: the requested one).
    """

    text: str | None = None
    tool_calls: Sequence[ToolCall] = ()
    stop_reason: str | None = None
    usage: Mapping[str, Any] | None = None
    omit_usage: bool = False
    extra_blocks: Sequence[Mapping[str, Any]] = ()
    content: Sequence[Mapping[str, Any]] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    model: str | None = None


@dataclass(frozen=True)
class Error:
    """An error in the provider's JSON shape. `type` defaults per status; `code`/`param` are OpenAI-only fields.

    `body` replaces the whole JSON body; `headers` are added (e.g. `{"retry-after": "3"}`).
    """

    status: int
    message: str | None = None
    type: str | None = None
    code: str | None = None
    param: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = None


@dataclass(frozen=True)
class Raw:
    """A verbatim response: any status, body and content type (None: no Content-Type header)."""

    body: bytes | str
    status: int = 200
    content_type: str | None = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Delay:
    """Sleep `seconds` before answering with `then` (default: the server's default response).

    The sleep is interrupted when the server stops; the client then sees a dropped connection.
    """

    seconds: float
    then: Scripted | None = None


@dataclass(frozen=True)
class Disconnect:
    """Close the connection without sending any response."""


Scripted: TypeAlias = Reply | Error | Raw | Delay | Disconnect


# --------------------------------------------------------------------------------------------------------------------
# Recorded requests


@dataclass
class RecordedRequest:
    """One request as the fake saw it. `headers` has lower-cased names; `body` is the parsed JSON (None if the body
    was empty or not JSON, see `json_error`). `status`/`response_body` are what the fake answered (None while the
    request is in flight, or after a disconnect)."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    raw_body: bytes
    body: Any = None
    json_error: str | None = None
    status: int | None = None
    response_body: bytes | None = None

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def response_json(self) -> Any:
        """The JSON the fake answered with (None if there was no answer or it was not JSON), e.g. its `usage`."""
        try:
            return json.loads(self.response_body) if self.response_body else None
        except ValueError:
            return None


# Picks the answer to a request from the request itself; None: use `fake.default`.
Responder: TypeAlias = Callable[[RecordedRequest], Scripted | None]


@dataclass(frozen=True)
class HttpResponse:
    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> HttpResponse:
    return HttpResponse(
        status=status,
        body=json.dumps(payload).encode("utf-8"),
        headers={"content-type": "application/json", **(headers or {})},
    )


class RequestInvalid(Exception):
    """Raised by provider validation; becomes an `Error` response."""

    def __init__(self, error: Error) -> None:
        super().__init__(error.message)
        self.error = error


# --------------------------------------------------------------------------------------------------------------------
# HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes; without TCP_NODELAY, Nagle + delayed ACK add ~40 ms per request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes | None:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size_total = 0
            for _ in range(MAX_CHUNKS):
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size_total += size
                if size_total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            return None
        length = int(self.headers.get("content-length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _handle_any(self) -> None:
        try:
            raw = self._read_body()
        except ValueError:
            raw = None
        if raw is None:
            self.close_connection = True
            self._send(HttpResponse(413, b"request body too large or badly framed", {"content-type": "text/plain"}))
            return
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        url = urlsplit(self.path)
        request = RecordedRequest(method=self.command, path=url.path, query=url.query, headers=headers, raw_body=raw)
        if raw:
            try:
                request.body = json.loads(raw)
            except (ValueError, UnicodeDecodeError) as exc:
                request.json_error = str(exc)
        outcome = self.server.fake._handle(request)
        if isinstance(outcome, Disconnect):
            self.close_connection = True
            return
        self._send(outcome)

    def _send(self, response: HttpResponse) -> None:
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(response.body)))
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:  # the client went away (timeout, closed connection, server stopping)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle_any


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # many parallel agents may connect at once

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        worker = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True, name="fake-server-conn"
        )
        with self._conn_lock:
            self._connections.add(request)
            self._workers = [t for t in self._workers if t.is_alive()]
            self._workers.append(worker)
        worker.start()

    def shutdown_request(self, request: Any) -> None:
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # dropped connections are expected, not bugs
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        with self._conn_lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def join_workers(self, timeout: float) -> None:
        with self._conn_lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(timeout)


# --------------------------------------------------------------------------------------------------------------------
# The base fake


METADATA_PATHS = frozenset({"/v1/models", "/models", "/props", "/api/show", "/api/ps", "/api/v0/models"})


class FakeServer:
    """Base class; subclasses implement the `_route`, `_authenticate`, `_validate`, `_render_reply` and
    `_render_error` hooks.

    Constructor (keyword-only):
    - `default`: the response when the queue is empty (default `Reply(text="ok")`).
    - `faults`: a `FaultPlan` (several kinds at a seeded rate, counted); also settable as `fake.faults`.
    - `fault_rate` (0..1), `fault` (default: `default_fault`), `seed`: one kind of fault, see `set_faults`.
    - `validate`: run the provider's request validation (default True).
    - `responder`: `callable(RecordedRequest) -> Scripted | None`, consulted when the queue is empty (see the module
      docstring). It runs on the server's request thread, possibly several at once; an exception in it is a fake
      bug (answered 500 and listed in `internal_errors`).
    """

    default_fault: ClassVar[Scripted] = Error(500)
    fixture_name: ClassVar[str] = "fake_server"
    base_path: ClassVar[str] = ""
    # How the provider says "overloaded" and "cut off", names tool calls, and what its body cut short looks like.
    overloaded_status: ClassVar[int] = 503
    cut_off_stop_reason: ClassVar[str] = "length"
    tool_id_prefix: ClassVar[str] = "call"
    malformed_body: ClassVar[str] = '{"id": "fake", "choices": [{"ind'

    def __init__(
        self,
        *,
        default: Scripted | None = None,
        fault_rate: float = 0.0,
        fault: Scripted | None = None,
        seed: int = 0,
        validate: bool = True,
        responder: Responder | None = None,
        faults: FaultPlan | None = None,
    ) -> None:
        self.faults: FaultPlan | None = faults
        self.default: Scripted = default if default is not None else Reply(text="ok")
        self._initial_default = self.default
        self.responder: Responder | None = responder
        self._initial_responder = responder
        self.validate = validate
        self._lock = threading.Lock()
        self._requests_changed = threading.Condition(self._lock)
        self._queue: deque[Scripted] = deque()
        self._requests: list[RecordedRequest] = []
        self._internal_errors: list[str] = []
        self._ids = itertools.count(1)
        self._fault_rate = 0.0
        self._fault: Scripted = self.default_fault
        self._rng = random.Random(seed)
        self.set_faults(fault_rate, fault, seed=seed)
        self._closing = threading.Event()
        # What a server says about itself (`GET /v1/models`, llama.cpp's `GET /props`, Ollama's `POST /api/show`):
        # (method, path) -> JSON body, answered 200; any other request to one of METADATA_PATHS is a 404. These
        # are kept apart from the API's requests, in `metadata_requests`, so counts of model calls stay exact.
        self.metadata: dict[tuple[str, str], Any] = {}
        self.metadata_requests: list[RecordedRequest] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._closing.clear()
        self._httpd = _HTTPServer(("127.0.0.1", 0), self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True, name=type(self).__name__
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        self._closing.set()  # wakes any Delay in progress
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(JOIN_TIMEOUT)
        httpd.join_workers(JOIN_TIMEOUT)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None and self._internal_errors:
            raise RuntimeError(f"{type(self).__name__} hit internal errors:\n" + "\n".join(self._internal_errors))

    @classmethod
    def fixture(cls, name: str | None = None, *, scope: str = "function", **kwargs: Any) -> Any:
        """A pytest fixture yielding a started fake built with `kwargs`: `fake_anthropic = FakeAnthropic.fixture()`
        in a test module or conftest (the name defaults to `cls.fixture_name`). With a wider `scope`, call
        `reset()` between tests."""
        import pytest

        def _fixture() -> Iterator[Any]:
            with cls(**kwargs) as fake:
                yield fake

        return pytest.fixture(name=name or cls.fixture_name, scope=scope)(_fixture)  # type: ignore[call-overload]

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running; use it as a context manager or call start()")
        return int(self._httpd.server_address[1])

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:PORT`, no path."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """What to pass as the provider SDK's `base_url`."""
        return self.root_url + self.base_path

    # ---------------------------------------------------------------- scripting

    def enqueue(self, *responses: Scripted) -> Self:
        """Append scripted responses to the FIFO queue; each answers one (valid) request."""
        with self._lock:
            self._queue.extend(responses)
        return self

    def reply(self, text: str | None = None, *, tool_calls: Sequence[ToolCall] = (), **kwargs: Any) -> Self:
        """Queue a `Reply(text=..., tool_calls=..., **kwargs)`."""
        return self.enqueue(Reply(text=text, tool_calls=tuple(tool_calls), **kwargs))

    def error(self, status: int, message: str | None = None, **kwargs: Any) -> Self:
        """Queue an `Error(status, message, **kwargs)` (kwargs: type, code, param, headers, body)."""
        return self.enqueue(Error(status, message, **kwargs))

    def raw(
        self,
        body: bytes | str,
        status: int = 200,
        content_type: str | None = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> Self:
        """Queue a verbatim body (e.g. malformed JSON)."""
        return self.enqueue(Raw(body, status, content_type, dict(headers or {})))

    def delay(self, seconds: float, then: Scripted | None = None) -> Self:
        """Queue a response that arrives after `seconds` (`then`, or the default response)."""
        return self.enqueue(Delay(seconds, then))

    def disconnect(self) -> Self:
        """Queue a dropped connection (no response at all)."""
        return self.enqueue(Disconnect())

    def set_faults(self, rate: float, fault: Scripted | None = None, *, seed: int | None = None) -> Self:
        """Answer a fraction `rate` (0..1) of valid requests with `fault` (default `default_fault`), chosen by a
        `random.Random(seed)`; faults do not consume the queue. `rate=0` turns injection off."""
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be within 0..1, got {rate}")
        with self._lock:
            self._fault_rate = rate
            self._fault = fault if fault is not None else self.default_fault
            if seed is not None:
                self._rng = random.Random(seed)
        return self

    @property
    def pending(self) -> int:
        """Scripted responses not yet consumed."""
        with self._lock:
            return len(self._queue)

    # ---------------------------------------------------------------- recorded requests

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            if not self._requests:
                raise LookupError("no request has been received")
            return self._requests[-1]

    def wait_for_requests(self, count: int, timeout: float = 60.0) -> bool:
        """Block until at least `count` requests have arrived (False on timeout: a bound only a broken test reaches)."""
        with self._requests_changed:
            return self._requests_changed.wait_for(lambda: len(self._requests) >= count, timeout)

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def reset(self) -> None:
        """Back to a fresh server on the same port: forget requests, scripted responses and provider state (e.g. the
        prompt cache), turn fault injection off and restore the default reply."""
        with self._lock:
            self._requests.clear()
            self._queue.clear()
            self._fault_rate = 0.0
            self.faults = None
            self.default = self._initial_default
            self.responder = self._initial_responder
            self._reset_state()

    @property
    def internal_errors(self) -> list[str]:
        """Tracebacks of bugs inside the fake (answered as 500); `__exit__` raises if any occurred."""
        with self._lock:
            return list(self._internal_errors)

    # ---------------------------------------------------------------- hooks for subclasses

    def _reset_state(self) -> None:
        """Called with the lock held by `reset`."""

    def _route(self, method: str, path: str) -> bool:
        raise NotImplementedError

    def _authenticate(self, request: RecordedRequest) -> Error | None:
        return None

    def _validate(self, request: RecordedRequest) -> None:
        """Raise `RequestInvalid` for a request the real API would reject."""

    def _render_reply(self, request: RecordedRequest, reply: Reply) -> HttpResponse:
        raise NotImplementedError

    def _render_error(self, error: Error) -> HttpResponse:
        raise NotImplementedError

    def _offered_tools(self, request: RecordedRequest) -> list[tuple[str, Mapping[str, Any]]]:
        """The (name, input schema) of each tool the request offers the model (not server-side tools)."""
        return []

    def _invalid_call(self, name: str, schema: Mapping[str, Any], rng: random.Random) -> ToolCall:
        """A call to an offered tool whose arguments do not fit its schema."""
        return ToolCall(name, wrong_types(schema), id=self._fault_call_id())

    def _fault_call_id(self) -> str:
        return f"{self.tool_id_prefix}{FAULT_ID_MARK}{self._next_id():06d}"

    def _next_id(self) -> int:
        return next(self._ids)

    # ---------------------------------------------------------------- dispatch

    def _handle(self, request: RecordedRequest) -> HttpResponse | Disconnect:
        path = request.path.rstrip("/")
        if path in METADATA_PATHS or (request.method, path) in self.metadata:
            with self._lock:
                self.metadata_requests.append(request)
            known = self.metadata.get((request.method, path))
            if known is None:
                return self._render_error(Error(404, f"Not found: {request.method} {request.path}"))
            answer = known(request) if callable(known) else known
            return json_response(200, answer)
        with self._requests_changed:
            self._requests.append(request)
            self._requests_changed.notify_all()
        try:
            outcome = self._respond(request)
        except Exception as exc:
            with self._lock:
                self._internal_errors.append(traceback.format_exc())
            outcome = self._render_error(Error(500, f"fake server bug: {exc!r}"))
        if isinstance(outcome, HttpResponse):
            request.status, request.response_body = outcome.status, outcome.body
        return outcome

    def _respond(self, request: RecordedRequest) -> HttpResponse | Disconnect:
        if not self._route(request.method, request.path):
            return self._render_error(Error(404, f"Not found: {request.method} {request.path}"))
        if request.json_error is not None or not isinstance(request.body, dict):
            detail = request.json_error or "the body must be a JSON object"
            return self._render_error(Error(400, f"Request body is not valid JSON: {detail}"))
        auth_error = self._authenticate(request)
        if auth_error is not None:
            return self._render_error(auth_error)
        if self.validate:
            try:
                self._validate(request)
            except RequestInvalid as invalid:
                return self._render_error(invalid.error)
        scripted = self._next_scripted(request)
        for _ in range(MAX_DELAY_CHAIN):
            if not isinstance(scripted, Delay):
                break
            if self._closing.wait(max(0.0, scripted.seconds)):
                return Disconnect()
            scripted = scripted.then if scripted.then is not None else self.default
        return self._materialise(request, scripted)

    def _next_scripted(self, request: RecordedRequest) -> Scripted:
        plan = self.faults
        if plan is not None:
            tools = self._offered_tools(request)
            drawn = plan.draw(request, offers_tools=bool(tools))
            if drawn is not None:
                return self._injected_fault(drawn[0], drawn[1], plan, tools)
        with self._lock:
            if self._fault_rate > 0.0 and self._rng.random() < self._fault_rate:
                return self._fault
            if self._queue:
                return self._queue.popleft()
            responder, default = self.responder, self.default
        if responder is not None:  # outside the lock: it may be slow, and parallel requests must not serialise
            chosen = responder(request)
            if chosen is not None:
                return chosen
        return default

    def _injected_fault(
        self, kind: str, rng: random.Random, plan: FaultPlan, tools: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> Scripted:
        if kind == "rate_limit":
            return Error(429, headers={"retry-after": plan.retry_after})
        if kind == "overloaded":
            return Error(self.overloaded_status)
        if kind == "server_error":
            return Error(500)
        if kind == "timeout":
            return Delay(plan.timeout_s, Disconnect())
        if kind == "disconnect":
            return Disconnect()
        if kind == "malformed":
            return Raw(self.malformed_body)
        if kind == "cut_off":
            return Reply(text=CUT_OFF_TEXT, stop_reason=self.cut_off_stop_reason)
        if kind == "unknown_tool":
            return Reply(tool_calls=(ToolCall(UNKNOWN_TOOL, {"command": "ls"}, id=self._fault_call_id()),))
        if kind == "invalid_arguments":
            name, schema = rng.choice(list(tools))
            return Reply(tool_calls=(self._invalid_call(name, schema, rng),))
        raise ValueError(f"unknown fault kind {kind!r}")

    def _materialise(self, request: RecordedRequest, scripted: Scripted) -> HttpResponse | Disconnect:
        if isinstance(scripted, Reply):
            return self._render_reply(request, scripted)
        if isinstance(scripted, Error):
            return self._render_error(scripted)
        if isinstance(scripted, Raw):
            body = scripted.body.encode("utf-8") if isinstance(scripted.body, str) else scripted.body
            headers = dict(scripted.headers)
            if scripted.content_type is not None:
                headers.setdefault("content-type", scripted.content_type)
            return HttpResponse(scripted.status, body, headers)
        if isinstance(scripted, Disconnect):
            return scripted
        raise TypeError(f"cannot answer with {scripted!r} (Delay chain deeper than {MAX_DELAY_CHAIN}?)")


def strip_keys(value: Any, keys: frozenset[str]) -> Any:
    """A deep copy of JSON `value` without the given object keys (used to drop `cache_control`)."""
    if isinstance(value, dict):
        return {k: strip_keys(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [strip_keys(v, keys) for v in value]
    return value
