"""The ASGI body limit refuses an over-sized body before the app reads it: plain text for
pages, the API's JSON error shape under the API's paths."""

from __future__ import annotations

import asyncio
import json

from assistant.body_limit import RequestBodyLimit


def _run(path: str, *, declared: int | None, chunks: list[bytes]) -> tuple[list[dict], bool]:
    reached = False

    async def app(scope, receive, send):
        nonlocal reached
        reached = True
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # as Django does: the client is gone, no response
            if not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    limited = RequestBodyLimit(
        app,
        limits=lambda: {"/v1/chat/completions": 10, "/memory/import": 10},
        json_prefixes=("/v1/",),
    )
    headers = [(b"content-length", str(declared).encode())] if declared is not None else []
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ]
    sent: list[dict] = []

    async def receive():
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "path": path, "headers": headers}
    asyncio.run(limited(scope, receive, send))
    return sent, reached


def _status_and_body(sent: list[dict]) -> tuple[int, bytes, dict]:
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], body, dict(start["headers"])


def test_a_declared_oversized_api_body_is_a_json_413_before_the_app_runs():
    sent, reached = _run("/v1/chat/completions", declared=11, chunks=[b"x" * 11])
    status, body, headers = _status_and_body(sent)
    assert not reached and status == 413
    assert headers[b"content-type"] == b"application/json"
    assert json.loads(body)["error"]["code"] == "request_too_large"


def test_an_undeclared_body_past_the_limit_is_cut_off_with_413():
    sent, reached = _run("/v1/chat/completions", declared=None, chunks=[b"x" * 6, b"x" * 6])
    status, body, _ = _status_and_body(sent)
    assert reached and status == 413 and b"request_too_large" in body


def test_a_page_is_refused_in_plain_text():
    sent, _ = _run("/memory/import", declared=50, chunks=[b"x" * 50])
    status, body, headers = _status_and_body(sent)
    assert status == 413 and headers[b"content-type"].startswith(b"text/plain")
    assert b"larger than the limit of 10 bytes" in body


def test_a_body_within_the_limit_reaches_the_app():
    sent, reached = _run("/v1/chat/completions", declared=5, chunks=[b"hello"])
    status, body, _ = _status_and_body(sent)
    assert reached and status == 200 and body == b"ok"
