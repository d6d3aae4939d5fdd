"""HTTP/1.1 plumbing for the scripted backend: just enough of the protocol for the
openai SDK (keep-alive, content-length bodies, chunked SSE), on asyncio streams."""

from __future__ import annotations

import asyncio
import contextlib
import http
import json
import time
from dataclasses import dataclass
from typing import Any

from inference.tokens import estimate_message_tokens, estimate_tokens

Spec = dict[str, Any] | tuple


@dataclass
class _HttpRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool = True


class _Dropped(Exception):
    """Raised to close the connection on purpose ("drop")."""


async def _read_request(reader: asyncio.StreamReader) -> _HttpRequest | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
        return None  # client went away (or sent garbage): end the connection
    request_line, *header_lines = head.decode("latin-1").split("\r\n")
    method, target, version = request_line.split(" ", 2)
    headers = {}
    for line in header_lines:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    body = await reader.readexactly(length) if length else b""
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" and (version != "HTTP/1.0" or connection == "keep-alive")
    return _HttpRequest(method, target.split("?", 1)[0], headers, body, keep_alive)


def _action(spec: Spec) -> str:
    if isinstance(spec, dict):
        return "delta"
    if isinstance(spec, tuple) and spec and isinstance(spec[0], str):
        return spec[0]
    raise ValueError(f"Not a chunk spec: {spec!r}")


async def _send(writer: asyncio.StreamWriter, code: int, body: bytes, content_type: str) -> None:
    try:
        phrase = http.HTTPStatus(code).phrase
    except ValueError:
        phrase = "Unknown"
    head = (
        f"HTTP/1.1 {code} {phrase}\r\ncontent-type: {content_type}\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    writer.write(head.encode() + body)
    await writer.drain()


async def _send_json(writer: asyncio.StreamWriter, code: int, payload: Any) -> None:
    await _send(writer, code, json.dumps(payload).encode(), "application/json")


async def _send_error(writer: asyncio.StreamWriter, code: int, body: Any) -> None:
    if body is None:
        await _send_json(writer, code, _error_body(f"Scripted HTTP {code}"))
    elif isinstance(body, dict | list):
        await _send_json(writer, code, body)
    else:
        text = str(body)
        content_type = "text/plain; charset=utf-8"
        with contextlib.suppress(ValueError):
            json.loads(text)
            content_type = "application/json"
        await _send(writer, code, text.encode(), content_type)


def _error_body(message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": None}}


def _chunk_base(model: str, kind: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-scripted-{time.monotonic_ns()}",
        "object": kind,
        "created": int(time.time()),
        "model": model,
    }


def _usage_counts(payload: dict[str, Any], texts: list[str]) -> tuple[int, int]:
    prompt = estimate_message_tokens(payload.get("messages") or [])
    return prompt, sum(estimate_tokens(t) for t in texts)


def _usage(prompt: int, completion: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
