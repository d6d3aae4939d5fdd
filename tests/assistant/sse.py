"""Helpers to drive the SSE answer stream from tests, through the real ASGI view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from asgiref.sync import async_to_sync
from django.test import AsyncClient


def parse_sse(raw: str) -> list[tuple[str, str]]:
    frames = []
    for block in raw.split("\n\n"):
        event, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
        if data:
            frames.append((event, "\n".join(data)))
    return frames


def stream_frames(
    user,
    url: str,
    on_frame: Callable[[str, str], Awaitable[None]] | None = None,
) -> list[tuple[str, str]]:
    """GET the stream as `user` and return its frames; `on_frame` runs after each one."""

    async def run() -> list[tuple[str, str]]:
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get(url)
        assert response.status_code == 200, response.status_code
        assert response["Content-Type"] == "text/event-stream"
        frames, buffer = [], ""
        async for chunk in response.streaming_content:
            buffer += chunk.decode()
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                for frame in parse_sse(block + "\n\n"):
                    frames.append(frame)
                    if on_frame:
                        await on_frame(*frame)
        return frames

    return async_to_sync(run)()


def stream_raw(user, url: str) -> bytes:
    """GET the stream as `user` and return its bytes as sent (comments included)."""

    async def run() -> bytes:
        client = AsyncClient()
        await client.aforce_login(user)
        response = await client.get(url)
        assert response.status_code == 200, response.status_code
        return b"".join([chunk async for chunk in response.streaming_content])

    return async_to_sync(run)()
