"""The relay's side of a turn: one reader per answer that collects the backend's events,
and the merging of what arrived at once into one frame per kind (assistant/services/turn.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from django.conf import settings

# Appended by the reader when the backend's event stream has ended (for whatever reason).
END = object()


class EventReader:
    """Reads the backend's events in one task for the whole answer into a list; the
    relay takes all that arrived at once and waits (with a timer) only when none did."""

    # Answers this process is streaming now (one event loop per process).
    streaming = 0

    def __init__(self, events: AsyncIterator) -> None:
        self.ready: list = []
        self._waiter: asyncio.Future | None = None
        self.task = asyncio.ensure_future(self._run(events))

    async def _run(self, events: AsyncIterator) -> None:
        EventReader.streaming += 1
        try:
            async for event in events:
                self.ready.append(event)
                self._wake()
        finally:
            EventReader.streaming -= 1
            self.ready.append(END)
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def take(self, timeout: float) -> list:
        """Everything that arrived, waiting up to `timeout` seconds when nothing has."""
        if not self.ready:
            loop = asyncio.get_running_loop()
            waiter = self._waiter = loop.create_future()
            timer = loop.call_later(max(timeout, 0.0), self._wake)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        events, self.ready = self.ready, []
        return events

    async def close(self) -> None:
        """Stop reading: cancels the backend request."""
        if not self.task.done():
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


def coalesce(events: list) -> list:
    merged: list = []
    for event in events:
        if merged and type(event) is type(merged[-1]) and hasattr(event, "text"):
            merged[-1] = type(event)(merged[-1].text + event.text)
        else:
            merged.append(event)
    return merged


def read_gap() -> float:
    """How long stream_chat holds a token it had to wait for (its `read_gap`): not at all
    while this process streams fewer than CHAT_PACE_FROM_STREAMS answers, so each token
    leaves at once; from there CHAT_FRAME_EVERY_S, so under load a stream costs about one
    reader wake-up and one frame per interval, whatever its token rate."""
    if EventReader.streaming >= settings.CHAT_PACE_FROM_STREAMS:
        return settings.CHAT_FRAME_EVERY_S
    return 0.0
