"""The scripted backend's ASGI app: OpenAI's `/models` and `/chat/completions`, answered
from chunk specs (see scripted_backend/backend.py for the spec language).

Served by uvicorn (HTTP/1.1, keep-alive, chunked SSE), so the openai SDK, httpx and our
error mapping see exactly what a real server sends. "drop" closes the connection itself:
ASGI has no such message, so the uvicorn protocol below hands the app its transport.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from inference.tokens import estimate_message_tokens, estimate_tokens

if TYPE_CHECKING:
    from .backend import RecordedRequest, ScriptedBackend

Spec = dict[str, Any] | tuple
Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
TRANSPORT_KEY = "scripted_backend.transport"


class DroppableProtocol(HttpToolsProtocol):
    """uvicorn's HTTP/1.1 protocol, with the connection's transport in the ASGI scope."""

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.scope[TRANSPORT_KEY] = self.transport  # type: ignore[literal-required]


class Dropped(Exception):
    """Raised to close the connection on purpose ("drop")."""


def action(spec: Spec) -> str:
    if isinstance(spec, dict):
        return "delta"
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
        return spec[0]
    raise ValueError(f"Not a chunk spec: {spec!r}")


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def chunk_base(model: str, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
    }


def usage_counts(payload: dict[str, Any], texts: list[str]) -> tuple[int, int]:
    prompt = estimate_message_tokens(payload.get("messages") or [])
    return prompt, sum(estimate_tokens(t) for t in texts)


def usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


async def send_body(send: Send, code: int, body: bytes, content_type: str) -> None:
    headers = [(b"content-type", content_type.encode()), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": code, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, code: int, payload: Any) -> None:
    await send_body(send, code, json.dumps(payload).encode(), "application/json")


async def send_error(send: Send, code: int, body: Any) -> None:
    if body is None:
        await send_json(send, code, error_body(f"Scripted HTTP {code}"))
    elif isinstance(body, dict | list):
        await send_json(send, code, body)
    else:
        text = str(body)
        content_type = "text/plain; charset=utf-8"
        with contextlib.suppress(ValueError):
            json.loads(text)
            content_type = "application/json"
        await send_body(send, code, text.encode(), content_type)


async def read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise Dropped
        parts.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(parts)


async def drop(scope: Scope, receive: Receive) -> None:
    """Close the connection now, then wait until uvicorn has seen it go."""
    scope[TRANSPORT_KEY].close()
    while (await receive())["type"] != "http.disconnect":
        pass


async def handle(backend: ScriptedBackend, scope: Scope, receive: Receive, send: Send) -> None:
    """One HTTP request; a drop (scripted, or the backend stopping) closes the connection."""
    if scope["type"] != "http":
        return  # no lifespan events: uvicorn runs with lifespan="off"
    task = asyncio.current_task()
    backend._tasks.add(task)
    try:
        await route(backend, scope, receive, send)
    except (Dropped, asyncio.CancelledError):
        await drop(scope, receive)
    finally:
        backend._tasks.discard(task)


async def route(backend: ScriptedBackend, scope: Scope, receive: Receive, send: Send) -> None:
    method, path = scope["method"], scope["path"]
    if method == "GET" and path.endswith("/models"):
        backend.models_requests += 1
        data = [{"id": backend.model, "object": "model", "created": 0, "owned_by": "scripted"}]
        await send_json(send, 200, {"object": "list", "data": data})
    elif method == "POST" and path.endswith("/chat/completions"):
        backend.in_flight += 1  # only the server loop's thread touches these
        backend.max_in_flight = max(backend.max_in_flight, backend.in_flight)
        try:
            await chat(backend, await read_body(receive), send)
        finally:
            backend.in_flight -= 1
    else:
        await send_json(send, 404, error_body(f"No route for {path}"))


async def chat(backend: ScriptedBackend, body: bytes, send: Send) -> None:
    from .backend import RecordedRequest

    arrived = time.monotonic_ns()
    try:
        payload = json.loads(body)
    except ValueError:
        await send_json(send, 400, error_body("Request body is not valid JSON"))
        return
    record = RecordedRequest(body=payload, arrived_ns=arrived)
    backend.requests.append(record)
    if backend.reject_stream_options and "stream_options" in payload:
        message = "Unrecognized request argument supplied: stream_options"
        await send_json(send, 400, error_body(message))
        return
    try:
        specs = backend.next_reply(payload)
    except Exception as exc:  # a broken responder should show up in the test output
        await send_json(send, 500, error_body(f"responder failed: {exc!r}"))
        return

    # Leading sleeps, an HTTP error or an early drop all happen before any headers.
    while specs and action(specs[0]) == "sleep":
        await asyncio.sleep(specs.pop(0)[1])
    if specs and action(specs[0]) == "status":
        _, code, *error = specs[0]
        await send_error(send, code, error[0] if error else None)
        record.finished_ns = time.monotonic_ns()
        return
    try:
        if specs and action(specs[0]) == "drop":
            raise Dropped
        if payload.get("stream"):
            await stream(backend, payload, specs, record, send)
        else:
            await complete(backend, payload, specs, record, send)
    except Dropped:
        record.dropped = True
        raise
    record.finished_ns = time.monotonic_ns()


async def stream(
    backend: ScriptedBackend,
    payload: dict[str, Any],
    specs: list[Spec],
    record: RecordedRequest,
    send: Send,
) -> None:
    headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    base = chunk_base(backend.model, "chat.completion.chunk")

    async def write(raw: bytes) -> None:
        await send({"type": "http.response.body", "body": raw, "more_body": True})

    def event(data: str) -> bytes:
        return f"data: {data}\n\n".encode()

    def choice(delta: dict[str, Any], finish: str | None = None) -> str:
        body = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return json.dumps({**base, "choices": [body]})

    await write(event(choice({"role": "assistant", "content": ""})))  # as vLLM does
    finish, counts, texts, send_done = "stop", None, [], True
    for spec in specs:
        kind = action(spec)
        if kind == "eof":
            break
        if kind == "no_done":
            send_done = False
        elif kind == "delta":
            if backend.chunk_delay_s:
                await asyncio.sleep(backend.chunk_delay_s)
            await write(event(choice(spec)))
            text = "".join(str(v) for v in spec.values() if isinstance(v, str))
            texts.append(text)
            if text and record.first_token_ns is None:
                record.first_token_ns = time.monotonic_ns()
        elif kind == "sleep":
            await asyncio.sleep(spec[1])
        elif kind == "finish":
            finish = spec[1]
        elif kind == "usage":
            counts = (spec[1], spec[2])
        elif kind == "raw":
            await write(spec[1].encode())
        else:  # "drop", or a "status" that came too late to be an HTTP error
            raise Dropped
    else:
        await write(event(choice({}, finish)))
        if (payload.get("stream_options") or {}).get("include_usage"):
            counts = counts or usage_counts(payload, texts)
            await write(event(json.dumps({**base, "choices": [], "usage": usage(*counts)})))
        if send_done:
            await write(event("[DONE]"))
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def complete(
    backend: ScriptedBackend,
    payload: dict[str, Any],
    specs: list[Spec],
    record: RecordedRequest,
    send: Send,
) -> None:
    fields: dict[str, str] = {}
    finish, counts = "stop", None
    for spec in specs:
        kind = action(spec)
        if kind == "delta":
            for key, value in spec.items():
                if isinstance(value, str):
                    fields[key] = fields.get(key, "") + value
        elif kind == "sleep":
            await asyncio.sleep(spec[1])
        elif kind == "finish":
            finish = spec[1]
        elif kind == "usage":
            counts = (spec[1], spec[2])
        elif kind in ("drop", "status", "eof"):
            raise Dropped
    message = {"role": "assistant", "content": fields.pop("content", ""), **fields}
    counts = counts or usage_counts(payload, [*fields.values(), message["content"]])
    body = {
        **chunk_base(backend.model, "chat.completion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": usage(*counts),
    }
    record.first_token_ns = time.monotonic_ns()
    await send_json(send, 200, body)
