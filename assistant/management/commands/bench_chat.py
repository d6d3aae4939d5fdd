"""Benchmark the chat server's own overhead around the model.

Starts a scripted OpenAI-compatible backend that answers instantly and the real ASGI
app under uvicorn (a subprocess, configured through the environment like production),
then opens answer streams and measures, per request, on this host's monotonic clock:

- pre-backend: client sends GET /stream  ->  the backend has read the model request
- first-token relay: backend sends its first token  ->  the client reads the first
  content frame

Two paths: the browser's (the turn saved beforehand, then GET its stream) and the
OpenAI-compatible API's (one POST /v1/chat/completions with stream: true, so its
pre-backend time also covers the token check, the request checks and saving the turn).
Both include loopback network and client parsing, so they bound the server's overhead
from above. Run: python manage.py bench_chat [--requests 200] [--concurrency 1,100]
[--paths browser,api]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.core.management.base import BaseCommand, CommandError
from django.test import override_settings
from rich.console import Console
from rich.table import Table

from assistant.api.tokens import token_create
from assistant.models import Conversation
from assistant.services.conversations import message_send
from inference.local_server import free_port
from memory.bench.stats import percentile
from memory.management.schema import require_schema

BENCH_USER = "bench-chat"
PATHS = ("browser", "api")
# Open answers the bench user may have at once (every browser turn is queued up front).
MAX_OPEN_ANSWERS = 5000


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


class Command(BaseCommand):
    help = "Measure the server's latency overhead before and after the model's first token."

    def add_arguments(self, parser):
        parser.add_argument("--requests", type=int, default=200)
        parser.add_argument("--concurrency", default="1,100")
        parser.add_argument("--json", dest="json_out", default=None)
        parser.add_argument(
            "--paths", default=",".join(PATHS), help="browser (GET stream) and/or api (/v1/)"
        )
        parser.add_argument(
            "--stream-seconds",
            type=float,
            default=3.0,
            help="how long each concurrent stream lasts (10 tokens/s, like a busy GPU)",
        )

    def handle(self, *args, requests, concurrency, json_out, stream_seconds, paths, **options):
        require_schema()
        try:  # test support, in the source checkout only (not shipped in the wheel)
            from scripted_backend import ScriptedBackend
        except ImportError as error:
            raise CommandError(
                "bench_chat runs from a source checkout (scripted_backend/)."
            ) from error
        console = Console()
        levels = [int(c) for c in concurrency.split(",")]
        chosen = [p.strip() for p in paths.split(",") if p.strip()]
        if not chosen or set(chosen) - set(PATHS):
            raise CommandError(f"--paths takes {' and/or '.join(PATHS)}.")
        user = self._bench_user()
        raw_token = token_create(user=user, name="bench", scopes=["chat"])[1]
        results = {}
        try:
            with ScriptedBackend() as backend:
                server, base_url = self._start_server(backend.base_url)
                try:
                    for level, path in [(level, path) for level in levels for path in chosen]:
                        total = max(requests, level * 3)
                        backend.reset()
                        # One at a time: a short, instant answer. Concurrent: long streams
                        # started evenly, so `level` streams are in flight at steady state.
                        tokens = 12 if level == 1 else round(stream_seconds * 10)
                        backend.responder = paced_reply(tokens, 0.0 if level == 1 else 0.1)
                        spacing = 0.0 if level == 1 else stream_seconds / level
                        if path == "browser":
                            urls = self._prepare_turns(user, total, tag=f"c{level}")
                            cookie = self._session_cookie(user)
                            drive = self._drive(base_url, urls, cookie, level, spacing)
                            key = f"concurrency_{level}"
                        else:
                            texts = [f"bench api c{level} {i}" for i in range(total)]
                            drive = self._drive_api(base_url, texts, raw_token, level, spacing)
                            key = f"api_concurrency_{level}"
                        timings = asyncio.run(drive)
                        results[key] = {
                            "path": path,
                            **self._summarise(timings, backend.requests, level),
                        }
                finally:
                    server.terminate()
                    server.wait(10)
        finally:
            get_user_model().objects.filter(username=BENCH_USER).delete()
        report = {"benchmark": "chat_overhead", "machine": _machine(), "results": results}
        self._print(console, results)
        if json_out:
            Path(json_out).parent.mkdir(parents=True, exist_ok=True)
            Path(json_out).write_text(json.dumps(report, indent=2))
            console.print(f"Wrote {json_out}")

    def _bench_user(self):
        User = get_user_model()
        User.objects.filter(username=BENCH_USER).delete()
        return User.objects.create_user(username=BENCH_USER, password=None)

    def _session_cookie(self, user) -> str:
        session = SessionStore()
        session["_auth_user_id"] = str(user.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = user.get_session_auth_hash()
        session.create()
        return session.session_key

    def _prepare_turns(self, user, count: int, *, tag: str) -> list[tuple[str, str]]:
        turns = []
        # All turns are queued up front for one user: lift the per-user cap for that.
        with override_settings(CHAT_MAX_CONCURRENT_STREAMS=count + 1):
            for i in range(count):
                conversation = Conversation.objects.create(owner=user, profile="fast")
                text = f"bench {tag} {i}"
                _, answer = message_send(conversation=conversation, text=text)
                turns.append((text, f"/c/{conversation.pk}/m/{answer.pk}/stream"))
        return turns

    def _start_server(self, backend_url: str):
        port = free_port()
        env = {
            **os.environ,
            "FAST_BASE_URL": backend_url,
            "THINKING_BASE_URL": backend_url,
            # API turns start in the server: the one bench user streams `level` at once.
            "CHAT_MAX_CONCURRENT_STREAMS": str(MAX_OPEN_ANSWERS),
        }
        env.setdefault("DEBUG", "true" if settings.DEBUG else "false")
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "assistant.asgi:application", "--host",
             "127.0.0.1", "--port", str(port), "--log-level", "warning", "--no-access-log"],
            env=env,
        )  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                    return server, base_url
            except httpx.HTTPError:
                time.sleep(0.2)
        server.kill()
        raise RuntimeError("uvicorn did not start")

    async def _drive(self, base_url, turns, cookie, level, spacing) -> dict[str, dict]:
        limits = httpx.Limits(max_connections=level + 10, max_keepalive_connections=level + 10)
        timings: dict[str, dict] = {}
        gate = asyncio.Semaphore(level)
        async with httpx.AsyncClient(
            base_url=base_url, cookies={"sessionid": cookie}, limits=limits, timeout=60
        ) as client:

            async def one(index: int, text: str, url: str) -> None:
                await asyncio.sleep(index * spacing)
                async with gate:
                    sent = time.monotonic_ns()
                    first = None
                    async with client.stream("GET", url) as response:
                        async for line in response.aiter_lines():
                            if first is None and line == "event: content":
                                first = time.monotonic_ns()
                    timings[text] = {"sent_ns": sent, "first_frame_ns": first}

            await asyncio.gather(*(one(i, text, url) for i, (text, url) in enumerate(turns)))
        return timings

    async def _drive_api(self, base_url, texts, raw_token, level, spacing) -> dict[str, dict]:
        """The same measure through POST /v1/chat/completions (stream: true): the first
        chunk with non-empty delta.content is the first token."""
        limits = httpx.Limits(max_connections=level + 10, max_keepalive_connections=level + 10)
        timings: dict[str, dict] = {}
        gate = asyncio.Semaphore(level)
        headers = {"Authorization": f"Bearer {raw_token}"}
        async with httpx.AsyncClient(
            base_url=base_url, headers=headers, limits=limits, timeout=60
        ) as client:

            async def one(index: int, text: str) -> None:
                await asyncio.sleep(index * spacing)
                body = {
                    "model": "fast",
                    "messages": [{"role": "user", "content": text}],
                    "stream": True,
                }
                async with gate:
                    sent = time.monotonic_ns()
                    first = None
                    async with client.stream("POST", "/v1/chat/completions", json=body) as reply:
                        async for line in reply.aiter_lines():
                            if first is None and _has_content(line):
                                first = time.monotonic_ns()
                    timings[text] = {"sent_ns": sent, "first_frame_ns": first}

            await asyncio.gather(*(one(i, text) for i, text in enumerate(texts)))
        return timings

    def _summarise(self, timings, backend_requests, level) -> dict:
        pre, relay = [], []
        for request in backend_requests:
            text = request["messages"][-1]["content"]
            timing = timings.get(text)
            if not timing or timing["first_frame_ns"] is None or request.first_token_ns is None:
                continue
            pre.append((request.arrived_ns - timing["sent_ns"]) / 1e6)
            relay.append((timing["first_frame_ns"] - request.first_token_ns) / 1e6)
        return {
            "concurrency": level,
            "requests": len(pre),
            "pre_backend_ms": _stats(pre),
            "first_token_relay_ms": _stats(relay),
            "added_before_first_token_ms": _stats([a + b for a, b in zip(pre, relay, strict=True)]),
        }

    def _print(self, console, results) -> None:
        table = Table(title="Chat server overhead (ms)")
        for column in ["path", "concurrency", "requests", "measure", "p50", "p95", "max"]:
            table.add_column(column, justify="right")
        for result in results.values():
            for measure in [
                "pre_backend_ms",
                "first_token_relay_ms",
                "added_before_first_token_ms",
            ]:
                s = result[measure]
                table.add_row(result["path"], str(result["concurrency"]), str(result["requests"]),
                              measure, f"{s['p50']:.1f}", f"{s['p95']:.1f}",
                              f"{s['max']:.1f}")  # fmt: skip
        console.print(table)


def _has_content(line: str) -> bool:
    """An SSE line of /v1/ carrying answer text (not the role chunk, not a ping)."""
    if not line.startswith("data: {"):
        return False
    choices = json.loads(line[6:]).get("choices") or [{}]
    return bool(choices[0].get("delta", {}).get("content"))


def _stats(values: list[float]) -> dict:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "mean": 0.0}
    return {
        "p50": round(percentile(values, 0.5), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
