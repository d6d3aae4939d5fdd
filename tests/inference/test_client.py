"""The inference client against a real (scripted) HTTP server over loopback."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from inference import (
    BackendConfig,
    ContentDelta,
    Done,
    InferenceError,
    ReasoningDelta,
    StreamError,
    StreamEvent,
    Usage,
    check_backend,
    complete_chat,
    get_async_client,
    make_client,
    stream_chat,
)
from inference.local_server import free_port
from scripted_backend import DEFAULT_ANSWER, ScriptedBackend
from tests.inference.conftest import MESSAGES


@pytest.fixture
def dead_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


def collect(config: BackendConfig, messages: list[dict] = MESSAGES) -> list[StreamEvent]:
    async def run() -> list[StreamEvent]:
        return [event async for event in stream_chat(config, messages)]

    return asyncio.run(run())


def texts(events: list[StreamEvent]) -> tuple[str, str]:
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    return reasoning, content


def assert_single_error(events: list[StreamEvent], kind: str) -> StreamError:
    assert isinstance(events[-1], StreamError), events
    assert not any(isinstance(e, Done) for e in events)
    assert sum(isinstance(e, StreamError) for e in events) == 1
    assert events[-1].kind == kind, events[-1]
    return events[-1]


# -- happy paths ------------------------------------------------------------------


def test_default_reply_streams_content_usage_and_done(backend, config) -> None:
    events = collect(config)
    assert texts(events) == ("", DEFAULT_ANSWER)
    assert sum(isinstance(e, ContentDelta) for e in events) == 5
    usage = [e for e in events if isinstance(e, Usage)]
    assert len(usage) == 1 and usage[0].prompt_tokens > 0 and usage[0].completion_tokens > 0
    assert events[-1] == Done(finish_reason="stop")

    sent = backend.requests[0]
    assert sent["model"] == "scripted-model"
    assert sent["messages"] == MESSAGES
    assert sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["max_tokens"] == 2048
    assert "temperature" not in sent.body
    assert sent.first_token_ns is not None and sent.first_token_ns >= sent.arrived_ns


def test_temperature_and_max_tokens_are_sent(backend, config) -> None:
    collect(replace(config, temperature=0.2, max_tokens=99))
    assert backend.requests[0]["temperature"] == 0.2
    assert backend.requests[0]["max_tokens"] == 99


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_separate_reasoning_field(backend, config, field: str) -> None:
    backend.script(
        [[{field: "Let me "}, {field: "think."}, {"content": "a <think> b"}, {"content": "!"}]]
    )
    events = collect(config)
    # With a reasoning parser on the server, content is passed through untouched.
    assert texts(events) == ("Let me think.", "a <think> b!")
    assert events[-1] == Done(finish_reason="stop")


def test_both_reasoning_fields_in_one_chunk_are_not_duplicated(backend, config) -> None:
    backend.script([[{"reasoning_content": "once", "reasoning": "once"}, {"content": "ok"}]])
    assert texts(collect(config)) == ("once", "ok")


def test_reasoning_parser_with_only_reasoning_means_reasoning_was_answer(backend, config) -> None:
    backend.script([[{"reasoning_content": "The answer is 4."}]])
    events = collect(config)
    assert texts(events) == ("The answer is 4.", "")
    assert events[-1].reasoning_was_answer


def test_inline_think_tags_split_at_awkward_boundaries(backend, config) -> None:
    chunks = ["<", "thi", "nk>\n", "step one", "</", "think", ">\n\n", "Fin", "al."]
    backend.script([[{"content": c} for c in chunks]])
    events = collect(config)
    assert texts(events) == ("step one", "Final.")
    assert events[-1] == Done(finish_reason="stop")


def test_r1_template_without_opening_tag(backend, config) -> None:
    backend.script([[{"content": "\nhmm"}, {"content": "</th"}, {"content": "ink>\n\nYes."}]])
    events = collect(replace(config, reasoning_starts_open=True))
    assert texts(events) == ("hmm", "Yes.")
    assert not events[-1].reasoning_was_answer


def test_non_reasoning_model_behind_r1_template(backend, config) -> None:
    backend.script([[{"content": "Just "}, {"content": "an answer."}]])
    events = collect(replace(config, reasoning_starts_open=True))
    assert texts(events) == ("Just an answer.", "")
    assert events[-1] == Done(finish_reason="stop", reasoning_was_answer=True)


def test_truncated_thinking_is_not_an_answer(backend, config) -> None:
    backend.script([[{"content": "thinking and thinking"}, ("finish", "length")]])
    events = collect(replace(config, reasoning_starts_open=True))
    assert events[-1] == Done(finish_reason="length", reasoning_was_answer=False)


def test_stray_close_tag_is_reported(backend, config) -> None:
    backend.script([[{"content": "thoughts</think>"}, {"content": "answer"}]])
    events = collect(config)
    assert texts(events) == ("", "thoughtsanswer")
    assert events[-1].leading_content_was_reasoning


def test_usage_reported_by_server(backend, config) -> None:
    backend.script([[{"content": "x"}, ("usage", 12, 34)]])
    events = collect(config)
    assert [e for e in events if isinstance(e, Usage)] == [Usage(12, 34)]
    assert events.index(Usage(12, 34)) < len(events) - 1  # before Done


def test_server_rejecting_stream_options_is_retried_without() -> None:
    with ScriptedBackend(reject_stream_options=True) as backend:
        events = collect(BackendConfig(backend.base_url, "m"))
        assert texts(events) == ("", DEFAULT_ANSWER)
        assert not any(isinstance(e, Usage) for e in events)
        assert isinstance(events[-1], Done)
        assert [r.get("stream_options") for r in backend.requests] == [
            {"include_usage": True},
            None,
        ]


def test_consumer_stopping_early_releases_the_connection(backend, config) -> None:
    backend.script([[{"content": "one"}, ("sleep", 0.2), {"content": "two"}]])

    async def run() -> list[StreamEvent]:
        stream = stream_chat(config, MESSAGES)
        first = await anext(stream)
        await stream.aclose()
        rest = [e async for e in stream_chat(config, MESSAGES)]
        return [first, *rest]

    events = asyncio.run(run())
    assert events[0] == ContentDelta("one")
    assert texts(events[1:]) == ("", DEFAULT_ANSWER)


def test_hundred_concurrent_streams(config) -> None:
    with ScriptedBackend(chunk_delay_s=0.01) as backend:
        cfg = replace(config, base_url=backend.base_url)

        async def one() -> list[StreamEvent]:
            return [event async for event in stream_chat(cfg, MESSAGES)]

        async def run() -> list[list[StreamEvent]]:
            return await asyncio.gather(*(one() for _ in range(100)))

        results = asyncio.run(run())
        assert all(texts(events) == ("", DEFAULT_ANSWER) for events in results)
        assert len(backend.requests) == 100
        # Concurrent, not one after another: the server itself saw many requests open at
        # once (each takes 5 x 10 ms; in sequence this would be 1). No wall-clock bound.
        assert backend.max_in_flight >= 10, backend.max_in_flight


def test_async_clients_are_cached_per_event_loop(config) -> None:
    async def pair():
        return get_async_client(config), get_async_client(config)

    a, b = asyncio.run(pair())
    c, _ = asyncio.run(pair())
    assert a is b
    assert a is not c


# -- failures -----------------------------------------------------------------------


def test_backend_down_is_unreachable_with_url(dead_url) -> None:
    events = collect(BackendConfig(dead_url, "m", label="thinking"))
    error = assert_single_error(events, "unreachable")
    assert error.retryable
    assert dead_url in error.message
    assert "connection refused" in error.message
    assert error.message.startswith("Could not reach the thinking model server at")


@pytest.mark.parametrize(
    ("status", "body", "retryable", "snippet"),
    [
        (500, "boom", True, "boom"),
        (503, '{"error": {"message": "model is loading"}}', True, "model is loading"),
        (429, '{"detail": "slow down"}', True, "slow down"),
        (404, '{"error": {"message": "The model `x` does not exist."}}', False, "does not exist"),
    ],
)
def test_http_error_is_status(backend, config, status, body, retryable, snippet) -> None:
    backend.script([[("status", status, body)]])
    error = assert_single_error(collect(config), "status")
    assert error.retryable is retryable
    assert f"{backend.base_url} returned HTTP {status}: " in error.message
    assert snippet in error.message


def test_long_error_bodies_are_shortened(backend, config) -> None:
    backend.script([[("status", 500, "x" * 5000)]])
    error = assert_single_error(collect(config), "status")
    assert len(error.message) < 300


def test_drop_mid_stream_keeps_partial_content(backend, config) -> None:
    backend.script([[{"content": "Half an ans"}, {"content": "wer"}, ("drop",)]])
    events = collect(config)
    assert texts(events) == ("", "Half an answer")
    error = assert_single_error(events, "unreachable")
    assert error.message == f"The model server at {backend.base_url} closed the stream early."
    assert error.retryable


def test_drop_before_headers_is_unreachable(backend, config) -> None:
    backend.script([[("drop",)]])
    error = assert_single_error(collect(config), "unreachable")
    assert backend.base_url in error.message


def test_slow_first_answer_times_out(backend, config) -> None:
    backend.script([[("sleep", 1.5), {"content": "too late"}]])
    events = collect(replace(config, timeout_s=0.3))
    error = assert_single_error(events, "timeout")
    assert error.retryable
    assert error.message == f"The model server at {backend.base_url} did not answer within 0.3 s."


def test_stall_mid_stream_times_out_after_partial_content(backend, config) -> None:
    backend.script([[{"content": "slow"}, ("sleep", 1.5), {"content": " never"}]])
    events = collect(replace(config, timeout_s=0.3))
    assert texts(events) == ("", "slow")
    error = assert_single_error(events, "timeout")
    assert backend.base_url in error.message


def test_malformed_stream_is_protocol_error(backend, config) -> None:
    backend.script([[{"content": "ok so far"}, ("raw", "data: {not json\n\n")]])
    events = collect(config)
    assert texts(events) == ("", "ok so far")
    error = assert_single_error(events, "protocol")
    assert not error.retryable
    assert backend.base_url in error.message


def test_error_event_inside_stream(backend, config) -> None:
    raw = 'data: {"error": {"message": "engine died", "code": 500}}\n\n'
    backend.script([[{"content": "a"}, ("raw", raw)]])
    error = assert_single_error(collect(config), "status")
    assert "engine died" in error.message and backend.base_url in error.message


# -- complete_chat --------------------------------------------------------------------


def test_complete_chat_splits_inline_think(backend, config) -> None:
    backend.script([["<think>\nweigh options\n</think>\n\n", '{"ok": true}']])
    result = complete_chat(config, MESSAGES, response_format={"type": "json_object"})
    assert result.content == '{"ok": true}'
    assert result.reasoning == "weigh options"
    assert result.finish_reason == "stop"
    assert result.prompt_tokens > 0 and result.completion_tokens > 0
    assert not result.usage_estimated
    sent = backend.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert not sent.get("stream")


def test_complete_chat_separate_reasoning_field(backend, config) -> None:
    backend.script([[{"reasoning_content": "hmm"}, {"content": "Yes."}]])
    result = complete_chat(config, MESSAGES)
    assert (result.reasoning, result.content) == ("hmm", "Yes.")


def test_complete_chat_non_reasoning_model_behind_r1_template(backend, config) -> None:
    backend.script([["Plain answer."]])
    result = complete_chat(replace(config, reasoning_starts_open=True), MESSAGES)
    assert (result.reasoning, result.content) == ("", "Plain answer.")


def test_complete_chat_raises_inference_error(backend, config, dead_url) -> None:
    backend.script([[("status", 502, "bad gateway")]])
    with pytest.raises(InferenceError) as caught:
        complete_chat(config, MESSAGES, client=make_client(config))
    assert caught.value.kind == "status" and caught.value.retryable
    assert backend.base_url in caught.value.message

    with pytest.raises(InferenceError) as caught:
        complete_chat(BackendConfig(dead_url, "m"), MESSAGES)
    assert caught.value.kind == "unreachable"
    assert dead_url in str(caught.value)
    assert caught.value.to_event().message == caught.value.message


# -- check_backend --------------------------------------------------------------------


def test_check_backend_ok(backend, config) -> None:
    backend.script([[{"content": "pong"}]])
    result = asyncio.run(check_backend(config))
    assert result.ok and result.error is None
    assert result.models == ("scripted-model",)
    assert result.model_listed is True
    assert result.reply == "pong"
    assert result.latency_ms is not None and result.latency_ms >= 0
    assert backend.models_requests == 1
    sent = backend.requests[0]
    assert sent["max_tokens"] == 16
    assert "pong" in sent["messages"][0]["content"]


def test_check_backend_failure(dead_url) -> None:
    result = asyncio.run(check_backend(BackendConfig(dead_url, "m")))
    assert not result.ok
    assert result.models == () and result.model_listed is None
    assert dead_url in result.error
    assert result.latency_ms is None


def test_check_backend_reports_http_error(backend, config) -> None:
    backend.script([[("status", 401, '{"error": {"message": "Invalid API key"}}')]])
    result = asyncio.run(check_backend(config))
    assert not result.ok
    assert "HTTP 401" in result.error and "Invalid API key" in result.error
