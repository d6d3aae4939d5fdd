"""Micro-benchmarks for reading a model server's SSE body (not collected by pytest).

    .venv/bin/python -m tests.inference.bench_sse [--events 10000] [--tokens 400]
        [--streams 4] [--repeats 5]

1. parse: N one-event pieces through an httpx2 response, as the old path read them
   (the SDK's line iterator: aiter_lines + startswith + json.loads) and as the new one
   does (aiter_raw + SseDecoder + json.loads). No network: the parsing layers alone.
2. stream_chat: the real client against the scripted backend in another process
   (so this process' CPU time is the client's alone), several streams at once, one
   event per network read (a small delay between deltas); CPU µs per relayed token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import time
from collections.abc import AsyncIterator

import httpx2

from inference import BackendConfig, ContentDelta, stream_chat
from inference.sse import SseDecoder

EVENT = (
    b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m",'
    b'"choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]}\n\n'
)


class _Pieces(httpx2.AsyncByteStream):
    def __init__(self, count: int) -> None:
        self.count = count

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(self.count):
            yield EVENT
        yield b"data: [DONE]\n\n"


def _response(count: int) -> httpx2.Response:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    return httpx2.Response(200, stream=_Pieces(count), request=request)


async def _old(count: int) -> int:
    seen = 0
    async for line in _response(count).aiter_lines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            break
        json.loads(data)
        seen += 1
    return seen


async def _new(count: int) -> int:
    seen = 0
    decoder = SseDecoder()
    async for piece in _response(count).aiter_raw():
        for payload in decoder.feed(piece):
            if payload == b"[DONE]":
                return seen
            json.loads(payload)
            seen += 1
    return seen


def bench_parse(events: int, repeats: int) -> None:
    """The best of `repeats` runs (the host is shared: the minimum is the least noisy)."""
    for name, reader in (("old (aiter_lines)", _old), ("new (aiter_raw + SseDecoder)", _new)):
        asyncio.run(reader(200))  # warm up
        best = float("inf")
        for _ in range(repeats):
            start = time.process_time()
            assert asyncio.run(reader(events)) == events
            best = min(best, time.process_time() - start)
        print(f"parse  {name:30s} {best / events * 1e6:7.1f} µs per event (incl. json.loads)")


SERVER = """
import sys, time
from scripted_backend import ScriptedBackend
tokens = int(sys.argv[1])
backend = ScriptedBackend(responder=lambda _: [" tok"] * tokens, chunk_delay_s=0.002).start()
print(backend.port, flush=True)
time.sleep(3600)
"""


def bench_stream(tokens: int, streams: int, repeats: int) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tokens)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        config = BackendConfig(f"http://127.0.0.1:{port}/v1", "scripted-model")
        messages = [{"role": "user", "content": "Hi"}]

        async def one() -> int:
            count = 0
            async for event in stream_chat(config, messages):
                count += isinstance(event, ContentDelta)
            return count

        async def run() -> float:
            await one()  # warm up: imports, the client, its pool
            start = time.process_time()
            counts = await asyncio.gather(*(one() for _ in range(streams)))
            spent = time.process_time() - start
            assert all(c == tokens for c in counts), counts
            return spent

        spent = min(asyncio.run(run()) for _ in range(repeats))
        per = spent / (tokens * streams) * 1e6
        print(f"stream_chat {streams} streams x {tokens} tokens: {per:7.1f} µs CPU per token")
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument("--streams", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    bench_parse(args.events, args.repeats)
    bench_stream(args.tokens, args.streams, args.repeats)


if __name__ == "__main__":
    main()
