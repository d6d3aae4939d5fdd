"""bench_chat's load generator: opens answer streams over HTTP and times them.

Each driver returns, per message text, when the request was sent and when its first
content frame arrived (monotonic ns), the server's CPU seconds when it was sent (only
with a `cpu` probe, one at a time), and how many content frames it read.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable

import httpx

Timings = dict[str, dict]


def paced_reply(tokens: int, gap_s: float):
    """First token at once, then one token every `gap_s` (a model's decode rate)."""

    def reply(request: dict) -> list:
        chunks: list = []
        for i in range(tokens):
            if i and gap_s:
                chunks.append(("sleep", gap_s))
            chunks.append({"content": f"tok{i} "})
        return chunks

    return reply


def probed(responder, cpu: Callable[[], float], marks: dict[str, float]):
    """`responder`, noting the server's CPU seconds as each model request arrives (keyed
    by its last message's text)."""

    def reply(request: dict) -> list:
        marks[request["messages"][-1]["content"]] = cpu()
        return responder(request)

    return reply


def has_content(line: str) -> bool:
    """An SSE line of /v1/ carrying answer text (not the role chunk, not a ping)."""
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _limits(level: int) -> httpx.Limits:
    # Idle connections are dropped well before uvicorn's 5 s keep-alive timeout, so the
    # client never reuses one the server is closing (a ReadError, not the server's fault).
    return httpx.Limits(
        max_connections=level + 10, max_keepalive_connections=level + 10, keepalive_expiry=2.0
    )


async def drive_browser(
    base_url: str,
    turns: list[tuple[str, str]],
    cookie: str,
    level: int,
    spacing: float,
    cpu: Callable[[], float] | None = None,
) -> Timings:
    """GET each turn's stream (the turn saved beforehand), `level` at a time."""
    timings: Timings = {}
    gate = asyncio.Semaphore(level)
    async with httpx.AsyncClient(
        base_url=base_url, cookies={"sessionid": cookie}, limits=_limits(level), timeout=60
    ) as client:

        async def one(index: int, text: str, url: str) -> None:
            await asyncio.sleep(index * spacing)
            async with gate:
                cpu_sent = cpu() if cpu else None
                sent = time.monotonic_ns()
                first, frames, error = None, 0, None
                try:
                    async with client.stream("GET", url) as response:
                        async for line in response.aiter_lines():
                            if line == "event: content":
                                frames += 1
                                if first is None:
                                    first = time.monotonic_ns()
                except httpx.HTTPError as exc:  # counted, not fatal: the run goes on
                    error = type(exc).__name__
                timings[text] = {
                    "sent_ns": sent,
                    "first_frame_ns": first,
                    "cpu_sent_s": cpu_sent,
                    "frames": frames,
                    "error": error,
                }

        await asyncio.gather(*(one(i, text, url) for i, (text, url) in enumerate(turns)))
    return timings


async def drive_api(
    base_url: str,
    texts: list[str],
    raw_token: str,
    level: int,
    spacing: float,
    cpu: Callable[[], float] | None = None,
) -> Timings:
    """The same measure through POST /v1/chat/completions (stream: true): the first
    chunk with non-empty delta.content is the first token."""
    timings: Timings = {}
    gate = asyncio.Semaphore(level)
    headers = {"Authorization": f"Bearer {raw_token}"}
    async with httpx.AsyncClient(
        base_url=base_url, headers=headers, limits=_limits(level), timeout=60
    ) as client:

        async def one(index: int, text: str) -> None:
            await asyncio.sleep(index * spacing)
            body = {
                "model": "fast",
                "messages": [{"role": "user", "content": text}],
                "stream": True,
            }
            async with gate:
                cpu_sent = cpu() if cpu else None
                sent = time.monotonic_ns()
                first, frames, error = None, 0, None
                try:
                    async with client.stream("POST", "/v1/chat/completions", json=body) as reply:
                        async for line in reply.aiter_lines():
                            if has_content(line):
                                frames += 1
                                if first is None:
                                    first = time.monotonic_ns()
                except httpx.HTTPError as exc:  # counted, not fatal: the run goes on
                    error = type(exc).__name__
                timings[text] = {
                    "sent_ns": sent,
                    "first_frame_ns": first,
                    "cpu_sent_s": cpu_sent,
                    "frames": frames,
                    "error": error,
                }

        await asyncio.gather(*(one(i, text) for i, text in enumerate(texts)))
    return timings


def summarise(timings: Timings, backend_requests, level: int, stats) -> dict:
    """Latency per request, matched to the backend's record of it by message text;
    transport errors counted by kind."""
    errors: dict[str, int] = {}
    for timing in timings.values():
        if timing.get("error"):
            errors[timing["error"]] = errors.get(timing["error"], 0) + 1
    pre, relay = [], []
    for request in backend_requests:
        matched = timings.get(request["messages"][-1]["content"])
        if not matched or matched["first_frame_ns"] is None or request.first_token_ns is None:
            continue
        pre.append((request.arrived_ns - matched["sent_ns"]) / 1e6)
        relay.append((matched["first_frame_ns"] - request.first_token_ns) / 1e6)
    return {
        "concurrency": level,
        "requests": len(pre),
        "transport_errors": errors,
        "pre_backend_ms": stats(pre),
        "first_token_relay_ms": stats(relay),
        "added_before_first_token_ms": stats([a + b for a, b in zip(pre, relay, strict=True)]),
    }


def pre_backend_cpu(timings: Timings, marks: dict[str, float]) -> list[float]:
    """Per turn: the server's CPU seconds from the request sent to the backend reached."""
    samples = []
    for text, timing in timings.items():
        sent, arrived = timing.get("cpu_sent_s"), marks.get(text)
        if sent is not None and arrived is not None:
            samples.append(arrived - sent)
    return samples
