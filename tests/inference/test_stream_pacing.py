"""Paced reads (stream_chat's `read_gap`): the first token leaves at once, then each read
takes every token that arrived since the last one, and none is lost or reordered."""

from __future__ import annotations

import asyncio
import itertools
import time

from inference import BackendConfig, ContentDelta, Done, stream_chat
from scripted_backend import ScriptedBackend
from tests.inference.conftest import MESSAGES

TOKENS = 10
GAP_S = 0.1  # the backend sends a token every 100 ms: 0.9 s for the answer


def _script(backend: ScriptedBackend) -> None:
    chunks: list = []
    for i in range(TOKENS):
        if i:
            chunks.append(("sleep", GAP_S))
        chunks.append({"content": f"t{i} "})
    backend.script([chunks])


def _arrivals(config: BackendConfig, read_gap) -> tuple[list, list[float]]:
    async def run() -> tuple[list, list[float]]:
        events, times = [], []
        started = time.monotonic()
        async for event in stream_chat(config, MESSAGES, read_gap=read_gap):
            events.append(event)
            times.append(time.monotonic() - started)
        return events, times

    return asyncio.run(run())


def _bursts(times: list[float]) -> int:
    """Groups of events that arrived within 30 ms of each other."""
    return 1 + sum(1 for before, after in itertools.pairwise(times) if after - before > 0.03)


def test_paced_reads_take_several_tokens_each_and_keep_them_all(backend, config):
    _script(backend)
    events, times = _arrivals(config, lambda: 0.35)
    content = [event for event in events if isinstance(event, ContentDelta)]
    assert "".join(event.text for event in content) == "".join(f"t{i} " for i in range(TOKENS))
    assert isinstance(events[-1], Done) and events[-1].finish_reason == "stop"
    content_times = times[: len(content)]
    assert content_times[0] < 0.3  # the first token is not held back
    # Reads at ~0, 0.35, 0.7 and the end: a handful of bursts, not one per token.
    assert _bursts(content_times) <= 5, content_times


def test_without_a_gap_each_token_is_read_as_it_arrives(backend, config):
    _script(backend)
    events, times = _arrivals(config, lambda: 0.0)
    content_times = [
        t for event, t in zip(events, times, strict=True) if isinstance(event, ContentDelta)
    ]
    assert len(content_times) == TOKENS
    assert _bursts(content_times) >= TOKENS - 2, content_times
