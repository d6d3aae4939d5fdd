"""A scripted OpenAI-compatible HTTP server for tests and benchmarks.

Real HTTP over loopback (stdlib asyncio, HTTP/1.1 with keep-alive and chunked SSE),
so the openai SDK, httpx and our error mapping are exercised exactly as in production.
One asyncio loop in a background thread serves hundreds of concurrent streams.

A reply is a list of chunk specs:
    {"content": "..."} / {"reasoning_content": "..."} / {"reasoning": "..."}
        a streamed delta, sent verbatim as choices[0].delta
    ("sleep", seconds)        pause; leading sleeps happen before the response headers
    ("status", code[, body])  answer with an HTTP error instead (only before any delta)
    ("drop",)                 close the connection without finishing the stream
    ("finish", reason)        finish_reason of the final chunk (default "stop"; None: null)
    ("eof",)                  end the body cleanly here: no final chunk, no [DONE]
                              (a proxy or a crashed server closing the stream)
    ("no_done",)              finish normally but leave out the closing [DONE]
    ("usage", prompt, completion)  override the reported token counts
    ("raw", text)             write text into the SSE body as-is (malformed-data tests)
A plain string, as a reply or as a spec, is shorthand for {"content": string}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ._http import (
    _action,
    _chunk_base,
    _Dropped,
    _error_body,
    _HttpRequest,
    _read_request,
    _send_error,
    _send_json,
    _usage,
    _usage_counts,
)

Spec = dict[str, Any] | tuple
Reply = list[Spec] | str
Responder = Callable[[dict[str, Any]], Reply]

logger = logging.getLogger(__name__)

DEFAULT_ANSWER = "Hello from the scripted backend."


def default_responder(request: dict[str, Any]) -> Reply:
    """The fixed DEFAULT_ANSWER in five chunks."""
    words = DEFAULT_ANSWER.split(" ")
    return [{"content": word if i == 0 else " " + word} for i, word in enumerate(words)]


@dataclass
class RecordedRequest:
    """A received chat completion request; indexing reads the JSON body."""

    body: dict[str, Any]
    arrived_ns: int  # time.monotonic_ns() when the request was fully read
    first_token_ns: int | None = None  # when the first non-empty delta was sent
    finished_ns: int | None = None
    dropped: bool = False

    def __getitem__(self, key: str) -> Any:
        return self.body[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.body.get(key, default)


@dataclass(eq=False)
class ScriptedBackend:
    """The server; use as a context manager or call start()/stop().

    requests: the chat completion requests received, in arrival order (RecordedRequest;
    request["messages"] reads the JSON body). GET /models calls only bump models_requests.
    in_flight / max_in_flight: chat requests being answered now / at most at once, as
    the server saw them (proves concurrency without timing the client).
    """

    responder: Responder = default_responder
    model: str = "scripted-model"
    reject_stream_options: bool = False  # answer 400 like servers that lack the field
    chunk_delay_s: float = 0.0  # pause before every delta (simulated token rate)
    host: str = "127.0.0.1"
    requests: list[RecordedRequest] = field(default_factory=list)
    models_requests: int = 0
    in_flight: int = 0
    max_in_flight: int = 0

    def __post_init__(self) -> None:
        self._queue: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()
        self._port: int | None = None

    # -- control (called from the test thread) -----------------------------------

    def script(self, replies: Iterable[Reply]) -> ScriptedBackend:
        """Queue replies for the next requests; the responder answers once it runs dry."""
        with self._lock:
            self._queue.extend(replies)
        return self

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self.requests.clear()
            self.models_requests = 0
            self.max_in_flight = self.in_flight

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("ScriptedBackend is not running; call start() first")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def start(self) -> ScriptedBackend:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="scripted-backend", daemon=True
        )
        self._thread.start()
        ready.wait(10)
        if failure or self._port is None:
            raise RuntimeError(f"ScriptedBackend failed to start: {failure!r}")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._thread = self._loop = None
        self._port = None

    def __enter__(self) -> ScriptedBackend:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- server loop (background thread) -------------------------------------------

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # this thread's own loop
        self._loop = loop
        try:
            server = loop.run_until_complete(
                asyncio.start_server(self._serve_connection, self.host, 0, backlog=1024)
            )
            self._port = server.sockets[0].getsockname()[1]
        except BaseException as exc:
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            server.close()
            for task in list(self._tasks):
                task.cancel()
            loop.run_until_complete(asyncio.gather(*self._tasks, return_exceptions=True))
            loop.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    break
                await self._dispatch(request, writer)
                if not request.keep_alive:
                    break
        except (ConnectionError, _Dropped, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # stop() cancels open connections; nothing is waiting for this task
        except Exception:
            logger.exception("ScriptedBackend failed while serving a request")
        finally:
            self._tasks.discard(task)
            writer.close()

    async def _dispatch(self, request: _HttpRequest, writer: asyncio.StreamWriter) -> None:
        if request.method == "GET" and request.path.endswith("/models"):
            self.models_requests += 1
            data = [{"id": self.model, "object": "model", "created": 0, "owned_by": "scripted"}]
            await _send_json(writer, 200, {"object": "list", "data": data})
        elif request.method == "POST" and request.path.endswith("/chat/completions"):
            self.in_flight += 1  # only the server loop's thread touches these
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                await self._chat(request, writer)
            finally:
                self.in_flight -= 1
        else:
            await _send_json(writer, 404, _error_body(f"No route for {request.path}"))

    def _next_reply(self, payload: dict[str, Any]) -> list[Spec]:
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            reply = self.responder(payload)
        if isinstance(reply, str):
            reply = [reply]
        specs = [{"content": spec} if isinstance(spec, str) else spec for spec in reply]
        for spec in specs:
            _action(spec)  # fail early (as HTTP 500) on a malformed script
        return specs

    async def _chat(self, request: _HttpRequest, writer: asyncio.StreamWriter) -> None:
        arrived = time.monotonic_ns()
        try:
            payload = json.loads(request.body)
        except ValueError:
            await _send_json(writer, 400, _error_body("Request body is not valid JSON"))
            return
        record = RecordedRequest(body=payload, arrived_ns=arrived)
        self.requests.append(record)
        if self.reject_stream_options and "stream_options" in payload:
            message = "Unrecognized request argument supplied: stream_options"
            await _send_json(writer, 400, _error_body(message))
            return
        try:
            specs = self._next_reply(payload)
        except Exception as exc:  # a broken responder should show up in the test output
            await _send_json(writer, 500, _error_body(f"responder failed: {exc!r}"))
            return

        # Leading sleeps, an HTTP error or an early drop all happen before any headers.
        while specs and _action(specs[0]) == "sleep":
            await asyncio.sleep(specs.pop(0)[1])
        if specs and _action(specs[0]) == "status":
            _, code, *body = specs[0]
            await _send_error(writer, code, body[0] if body else None)
            record.finished_ns = time.monotonic_ns()
            return
        if specs and _action(specs[0]) == "drop":
            record.dropped = True
            raise _Dropped
        try:
            if payload.get("stream"):
                await self._stream(payload, specs, record, writer)
            else:
                await self._complete(payload, specs, record, writer)
        except _Dropped:
            record.dropped = True
            raise
        record.finished_ns = time.monotonic_ns()

    async def _stream(
        self,
        payload: dict[str, Any],
        specs: list[Spec],
        record: RecordedRequest,
        writer: asyncio.StreamWriter,
    ) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
        )
        base = _chunk_base(self.model, "chat.completion.chunk")

        async def send_event(data: str) -> None:
            raw = f"data: {data}\n\n".encode()
            writer.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
            await writer.drain()

        def choice(delta: dict, finish: str | None = None) -> str:
            body = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return json.dumps({**base, "choices": [body]})

        await send_event(choice({"role": "assistant", "content": ""}))  # as vLLM does
        finish, usage, texts, send_done = "stop", None, [], True
        for spec in specs:
            action = _action(spec)
            if action == "eof":
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                return
            if action == "no_done":
                send_done = False
            elif action == "delta":
                if self.chunk_delay_s:
                    await asyncio.sleep(self.chunk_delay_s)
                await send_event(choice(spec))
                text = "".join(str(v) for v in spec.values() if isinstance(v, str))
                texts.append(text)
                if text and record.first_token_ns is None:
                    record.first_token_ns = time.monotonic_ns()
            elif action == "sleep":
                await asyncio.sleep(spec[1])
            elif action == "finish":
                finish = spec[1]
            elif action == "usage":
                usage = (spec[1], spec[2])
            elif action == "raw":
                raw = spec[1].encode()
                writer.write(f"{len(raw):x}\r\n".encode() + raw + b"\r\n")
                await writer.drain()
            else:  # "drop", or a "status" that came too late to be an HTTP error
                raise _Dropped
        await send_event(choice({}, finish))
        if (payload.get("stream_options") or {}).get("include_usage"):
            usage = usage or _usage_counts(payload, texts)
            await send_event(json.dumps({**base, "choices": [], "usage": _usage(*usage)}))
        if send_done:
            await send_event("[DONE]")
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _complete(
        self,
        payload: dict[str, Any],
        specs: list[Spec],
        record: RecordedRequest,
        writer: asyncio.StreamWriter,
    ) -> None:
        fields: dict[str, str] = {}
        finish, usage = "stop", None
        for spec in specs:
            action = _action(spec)
            if action == "delta":
                for key, value in spec.items():
                    if isinstance(value, str):
                        fields[key] = fields.get(key, "") + value
            elif action == "sleep":
                await asyncio.sleep(spec[1])
            elif action == "finish":
                finish = spec[1]
            elif action == "usage":
                usage = (spec[1], spec[2])
            elif action in ("drop", "status", "eof"):
                raise _Dropped
        message = {"role": "assistant", "content": fields.pop("content", ""), **fields}
        usage = usage or _usage_counts(payload, [*fields.values(), message["content"]])
        body = {
            **_chunk_base(self.model, "chat.completion"),
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
            ],
            "usage": _usage(*usage),
        }
        record.first_token_ns = time.monotonic_ns()
        await _send_json(writer, 200, body)
