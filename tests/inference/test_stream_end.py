"""How a stream ends: [DONE] and finish_reason decide whether an answer is complete."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from inference import BackendConfig, ContentDelta, Done, ReasoningDelta, StreamError, stream_chat
from tests.inference.conftest import MESSAGES


def collect(config: BackendConfig) -> list:
    async def run() -> list:
        return [event async for event in stream_chat(config, MESSAGES)]

    return asyncio.run(run())


def joined(events: list, kind: type) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def test_clean_close_without_done_or_finish_reason_is_a_retryable_error(backend, config):
    backend.script([[{"content": "Half an "}, {"content": "answer"}, ("eof",)]])
    events = collect(config)
    assert joined(events, ContentDelta) == "Half an answer"  # the partial answer is kept
    assert not any(isinstance(e, Done) for e in events)
    error = events[-1]
    assert isinstance(error, StreamError) and error.retryable
    assert "no finish reason and no [DONE]" in error.message
    assert backend.base_url in error.message


def test_half_written_implicit_reasoning_is_not_promoted_when_cut(backend, config):
    backend.script([[{"content": "Let me think about"}, ("eof",)]])
    events = collect(replace(config, reasoning_starts_open=True))
    assert joined(events, ReasoningDelta) == "Let me think about"
    assert joined(events, ContentDelta) == ""
    assert isinstance(events[-1], StreamError)


def test_separate_reasoning_cut_off_is_an_error_not_an_answer(backend, config):
    backend.script([[{"reasoning_content": "Step one, step"}, ("eof",)]])
    events = collect(config)
    assert joined(events, ReasoningDelta) == "Step one, step"
    assert isinstance(events[-1], StreamError)


def test_done_without_finish_reason_never_promotes_reasoning(backend, config):
    backend.script([[{"content": "still thinking"}, ("finish", None)]])
    events = collect(replace(config, reasoning_starts_open=True))
    assert events[-1] == Done(finish_reason=None, reasoning_was_answer=False)


def test_finish_reason_without_done_marker_is_complete(backend, config):
    backend.script([[{"content": "All of it."}, ("no_done",)]])
    events = collect(config)
    assert events[-1] == Done(finish_reason="stop", saw_done_marker=False)
    assert joined(events, ContentDelta) == "All of it."


def test_length_finish_reason_is_reported(backend, config):
    backend.script([[{"content": "A long"}, ("finish", "length")]])
    events = collect(config)
    assert events[-1] == Done(finish_reason="length")
