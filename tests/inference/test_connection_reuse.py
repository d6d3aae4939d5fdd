"""Keep-alive to the model server: turns reuse one TCP connection (the body after [DONE]
is drained), while a stream closed early still closes its request at once."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace

import pytest

from inference import BackendConfig, ContentDelta, Done, StreamEvent, stream_chat
from inference import client as inference_client
from inference import stream as inference_stream
from scripted_backend import DEFAULT_ANSWER, ScriptedBackend
from tests.inference.conftest import MESSAGES


class CountingProxy:
    """A loopback TCP relay in front of the scripted backend that counts connections."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.connections = 0
        self.closed_by_client = 0  # connections the client closed (EOF from its side)
        self.port = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> CountingProxy:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._server is not None
        self._server.close()

    def config(self, config: BackendConfig) -> BackendConfig:
        return replace(config, base_url=f"http://127.0.0.1:{self.port}/v1")

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                if src is reader:
                    self.closed_by_client += 1
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def turn(config: BackendConfig) -> list[StreamEvent]:
    return [event async for event in stream_chat(config, MESSAGES)]


def content(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def test_two_turns_share_one_connection(backend: ScriptedBackend, config) -> None:
    async def run() -> tuple[int, list[list[StreamEvent]]]:
        async with CountingProxy(backend.port) as proxy:
            cfg = proxy.config(config)
            first = await turn(cfg)
            second = await turn(cfg)
            # Same server, other timeouts (e.g. another role's model): same pool.
            third = await turn(replace(cfg, timeout_s=7, label="thinking"))
            return proxy.connections, [first, second, third]

    connections, results = asyncio.run(run())
    for events in results:
        assert content(events) == DEFAULT_ANSWER
        assert events[-1] == Done(finish_reason="stop")
    assert len(backend.requests) == 3
    assert connections == 1


def test_stream_closed_early_closes_its_connection(backend: ScriptedBackend, config) -> None:
    backend.script([[{"content": "one"}, ("sleep", 0.5), {"content": "two"}]])

    async def run() -> tuple[int, list[StreamEvent]]:
        async with CountingProxy(backend.port) as proxy:
            cfg = proxy.config(config)
            stream = stream_chat(cfg, MESSAGES)
            assert await anext(stream) == ContentDelta("one")
            await stream.aclose()  # the request is abandoned: its connection can't be reused
            events = await turn(cfg)
            return proxy.connections, events

    connections, events = asyncio.run(run())
    assert content(events) == DEFAULT_ANSWER
    assert connections == 2


def test_cancelled_stream_closes_its_connection_at_once(backend: ScriptedBackend, config) -> None:
    backend.script([[{"content": "one"}, ("sleep", 5), {"content": "two"}]])

    async def run() -> float:
        async with CountingProxy(backend.port) as proxy:
            cfg = proxy.config(config)
            seen = asyncio.Event()

            async def consume() -> None:
                async for _ in stream_chat(cfg, MESSAGES):
                    seen.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(seen.wait(), 5)
            cancelled = time.monotonic()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            while not proxy.closed_by_client and time.monotonic() - cancelled < 4:
                await asyncio.sleep(0.01)
            assert proxy.closed_by_client == 1
            return time.monotonic() - cancelled

    assert asyncio.run(run()) < 2  # not after the server's 5 s pause


def test_a_server_that_keeps_sending_after_done_is_cut_off(
    backend: ScriptedBackend, config, monkeypatch
) -> None:
    monkeypatch.setattr(inference_stream, "DRAIN_TIMEOUT_S", 0.1)
    backend.script([[{"content": "ok"}, ("raw", "data: [DONE]\n\n"), ("sleep", 2), "more"]])
    start = time.monotonic()
    events = asyncio.run(turn(config))
    assert time.monotonic() - start < 1.5
    assert content(events) == "ok"
    assert events[-1] == Done(finish_reason=None)


def test_request_body_is_the_prefix_plus_the_messages(config) -> None:
    messages = [{"role": "user", "content": 'naïve \u2028 "quoted"'}]
    for include_usage in (True, False):
        body = inference_stream.stream_request_body(
            replace(config, temperature=0.3), messages, include_usage=include_usage
        )
        expected = inference_client._request_kwargs(
            replace(config, temperature=0.3), messages, stream=True, include_usage=include_usage
        )
        assert json.loads(body) == expected
