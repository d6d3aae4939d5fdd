"""A scripted OpenAI-compatible HTTP server for tests and benchmarks (test support: it
is not part of the shipped package).

A small ASGI app (scripted_backend/app.py) served by uvicorn over loopback, in a
background thread, so the openai SDK, httpx and our error mapping are exercised exactly
as in production. One event loop serves hundreds of concurrent streams.

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
import contextlib
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

from . import app
from .app import Spec

Reply = list[Spec] | str
Responder = Callable[[dict[str, Any]], Reply]

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
        self._server: uvicorn.Server | None = None
        self._tasks: set[asyncio.Task[Any] | None] = set()  # requests being answered
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
        sock = socket.socket()
        sock.bind((self.host, 0))
        self._port = sock.getsockname()[1]
        config = uvicorn.Config(
            self._asgi,
            http=app.DroppableProtocol,
            lifespan="off",
            interface="asgi3",
            log_config=None,
            log_level="warning",
            access_log=False,
            proxy_headers=False,
            server_header=False,
            date_header=False,
            backlog=1024,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, args=([sock],), name="scripted-backend", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("ScriptedBackend failed to start (see the uvicorn log)")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        """Drop the connections still being answered, then stop uvicorn."""
        if self._server is not None and self._thread is not None:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._cancel_requests)
            self._server.should_exit = True
            self._thread.join(10)
        self._thread = self._server = self._loop = None
        self._port = None

    def __enter__(self) -> ScriptedBackend:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- serving (the server's event loop, in the background thread) ---------------------

    async def _asgi(self, scope: app.Scope, receive: app.Receive, send: app.Send) -> None:
        self._loop = asyncio.get_running_loop()
        await app.handle(self, scope, receive, send)

    def _cancel_requests(self) -> None:
        for task in list(self._tasks):
            if task is not None:
                task.cancel()

    def next_reply(self, payload: dict[str, Any]) -> list[Spec]:
        """The next scripted reply (else the responder's), as a list of checked specs."""
        with self._lock:
            reply = self._queue.popleft() if self._queue else None
        if reply is None:
            reply = self.responder(payload)
        if isinstance(reply, str):
            reply = [reply]
        specs = [{"content": spec} if isinstance(spec, str) else spec for spec in reply]
        for spec in specs:
            app.action(spec)  # fail early (as HTTP 500) on a malformed script
        return specs
