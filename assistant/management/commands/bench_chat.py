"""Benchmark the chat server's own overhead around the model: latency and server CPU.

Starts a scripted OpenAI-compatible backend that answers instantly (a thread of this
process) and the real ASGI app under uvicorn (a subprocess, configured through the
environment like production), then opens answer streams and measures, per request, on
this host's monotonic clock:

- pre-backend: client sends the request  ->  the backend has read the model request
- first-token relay: backend sends its first token  ->  the client reads the first
  content frame

Two paths: the browser's (the turn saved beforehand by this process, then GET its
stream) and the OpenAI-compatible API's (one POST /v1/chat/completions with stream:
true, so its pre-backend time also covers the token check, the request checks and
saving the turn). Both include loopback network and client parsing, so they bound the
server's overhead from above.

Server CPU comes from the server process' own counters (/proc/<pid>/stat utime + stime,
its descendants and reaped children included; assistant/bench/cpu.py), never from this
process' view of time:

1. Pinning: --server-cpus pins every thread of the server, --harness-cpus this process
   (client and scripted backend); the embedded PostgreSQL stays unpinned and its CPU
   (the postmaster's tree) is reported apart as db_cpu_ms_per_turn.
2. Warm-up: the server's embedding model warms up in a thread at start; nothing is
   measured until the server uses under 2% of a core over 1 s, then a few turns per
   path run uncounted.
3. Per run: the server is idle before it (same test) and its counters are read; after
   the run they are read at the start of the next quiet second, so a run's tail (final
   saves after the last frame) counts and idle time does not.
4. Calibration, per path: one at a time with 1-token answers; its CPU per turn is the
   fixed cost F of a turn. Figures (assistant/bench/chat_figures.py):
   cpu_ms_per_turn = run CPU / turns; cpu_us_per_token = (run CPU - turns * F) /
   (tokens - turns), the slope per token beyond a turn's first.
5. One at a time, the server's counters are also read as each request is sent and as
   the backend reads the model request: cpu_ms_pre_backend is the mean of the
   difference (10 ms ticks, averaged over the turns).

The browser path's CPU covers its GET stream only: the send POST that saves the turn is
done by this process beforehand. Run: python manage.py bench_chat [--requests 200]
[--concurrency 1,100] [--paths browser,api] [--server-cpus 0 --harness-cpus 1]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
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
from assistant.bench import chat_drive, chat_figures, cpu
from assistant.bench.chat_figures import stats as _stats
from assistant.models import Conversation
from assistant.services.conversations import message_send
from inference.local_server import free_port
from memory.management.schema import require_schema

BENCH_USER = "bench-chat"
PATHS = ("browser", "api")
# Open answers the bench user may have at once (every browser turn is queued up front).
MAX_OPEN_ANSWERS = 5000
__all__ = ["Command", "_machine", "_stats"]


class Command(BaseCommand):
    help = "Measure the server's latency overhead and CPU around the model's first token."

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
        parser.add_argument("--server-cpus", default=None, help='pin the server, e.g. "0"')
        parser.add_argument("--harness-cpus", default=None, help='pin this process, e.g. "1"')
        parser.add_argument("--warmup-turns", type=int, default=5, help="per path, uncounted")
        parser.add_argument(
            "--calibration-turns", type=int, default=100, help="1-token turns per path"
        )
        parser.add_argument("--idle-timeout", type=float, default=300.0)

    def handle(self, *args, **options):
        require_schema()
        try:  # test support, in the source checkout only (not shipped in the wheel)
            from scripted_backend import ScriptedBackend
        except ImportError as error:
            raise CommandError(
                "bench_chat runs from a source checkout (scripted_backend/)."
            ) from error
        self.options = options
        levels = [int(c) for c in options["concurrency"].split(",")]
        chosen = [p.strip() for p in options["paths"].split(",") if p.strip()]
        if not chosen or set(chosen) - set(PATHS):
            raise CommandError(f"--paths takes {' and/or '.join(PATHS)}.")
        try:
            server_cpus, harness_cpus = (
                cpu.parse_cpus(options[name]) if options[name] else None
                for name in ("server_cpus", "harness_cpus")
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        if harness_cpus:  # before the backend's thread starts: it inherits the pinning
            cpu.pin_threads(os.getpid(), harness_cpus)
        self.db_cpu = _db_tree()
        machine = {**_machine(), "load_average_start": os.getloadavg()}
        user = self._bench_user()
        self.user = user
        self.raw_token = token_create(user=user, name="bench", scopes=["chat"])[1]
        calibration, runs = [], []
        try:
            with ScriptedBackend() as backend:
                self.backend = backend
                server, self.base_url = self._start_server(backend.base_url, server_cpus)
                self.server = server
                self.server_cpu = cpu.TreeCpu(server.pid)
                try:
                    _, warmup_s = self.server_cpu.wait_idle(timeout_s=options["idle_timeout"])
                    for path in chosen:
                        self._run(path, 1, options["warmup_turns"], tokens=12, tag="warm")
                    fixed: dict[str, float | None] = {}
                    for path in chosen:
                        row = self._run(path, 1, options["calibration_turns"], tokens=1)
                        fixed[path] = row["server_cpu_s"] / row["turns"] if row["turns"] else None
                        calibration.append(row)
                    for level, path in [(level, path) for level in levels for path in chosen]:
                        total = max(options["requests"], level * 3)
                        tokens = 12 if level == 1 else round(options["stream_seconds"] * 10)
                        runs.append(self._run(path, level, total, tokens, fixed=fixed[path]))
                    machine.update(
                        warmup_wait_s=round(warmup_s, 1),
                        server_affinity=cpu.affinity(server.pid),
                        harness_affinity=cpu.affinity(os.getpid()),
                        db_measured=self.db_cpu is not None,
                        load_average_end=os.getloadavg(),
                    )
                finally:
                    server.terminate()
                    server.wait(10)
        finally:
            get_user_model().objects.filter(username=BENCH_USER).delete()
        bench_settings = {
            key: options[key]
            for key in ("requests", "concurrency", "paths", "stream_seconds", "server_cpus",
                        "harness_cpus", "warmup_turns", "calibration_turns")
        }  # fmt: skip
        result = chat_figures.report(
            machine=machine, settings=bench_settings, calibration=calibration, runs=runs
        )
        self._print(Console(), calibration, runs)
        if options["json_out"]:
            Path(options["json_out"]).parent.mkdir(parents=True, exist_ok=True)
            Path(options["json_out"]).write_text(json.dumps(result, indent=2))
            self.stdout.write(f"Wrote {options['json_out']}")

    def _run(self, path: str, level: int, total: int, tokens: int, *, tag="", fixed=None) -> dict:
        """One measured run: `total` turns of `tokens`-token answers, `level` at a time.
        One at a time: instant answers. Concurrent: 10 tokens/s, streams started evenly
        so that `level` are in flight at steady state."""
        backend = self.backend
        tag = tag or f"c{level}t{tokens}"
        backend.reset()
        marks: dict[str, float] = {}
        reply = chat_drive.paced_reply(tokens, 0.0 if level == 1 else 0.1)
        spacing = 0.0 if level == 1 else self.options["stream_seconds"] / level
        probe = self.server_cpu.seconds if level == 1 else None
        backend.responder = chat_drive.probed(reply, probe, marks) if probe else reply
        if path == "browser":
            urls = self._prepare_turns(self.user, total, tag=tag)
            cookie = self._session_cookie(self.user)
            drive = chat_drive.drive_browser(self.base_url, urls, cookie, level, spacing, probe)
        else:
            texts = [f"bench api {tag} {i}" for i in range(total)]
            drive = chat_drive.drive_api(
                self.base_url, texts, self.raw_token, level, spacing, probe
            )
        self.server_cpu.wait_idle(timeout_s=self.options["idle_timeout"])
        server_before = self.server_cpu.sample()
        db_before = self.db_cpu.sample() if self.db_cpu else None
        harness_before, wall_before = _own_cpu_s(), time.monotonic()
        timings = asyncio.run(drive)
        wall, harness = time.monotonic() - wall_before, _own_cpu_s() - harness_before
        if self.server.poll() is not None:
            raise CommandError(f"The server exited ({self.server.returncode}) during a run.")
        server_after, _ = self.server_cpu.wait_idle(timeout_s=self.options["idle_timeout"])
        db_after = self.db_cpu.sample() if self.db_cpu else None
        window = chat_figures.CpuWindow(
            server_s=server_after - server_before,
            wall_s=wall,
            harness_s=harness,
            db_s=None if db_before is None or db_after is None else db_after - db_before,
        )
        latency = chat_drive.summarise(timings, backend.requests, level, _stats)
        return chat_figures.run_row(
            path=path,
            concurrency=level,
            answer_tokens=tokens,
            turns=total,
            latency=latency,
            window=window,
            tokens=tokens * len(backend.requests),
            frames=sum(t["frames"] for t in timings.values()),
            fixed_turn_s=fixed,
            pre_backend_cpu=chat_drive.pre_backend_cpu(timings, marks) if probe else None,
        )

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
        assert session.session_key is not None
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

    def _start_server(self, backend_url: str, cpus: set[int] | None):
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
        if cpus:  # at once (one thread yet), and every thread once it answers
            cpu.pin_threads(server.pid, cpus)
        base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:  # liveness: the process answers (readiness also wants Redis)
                if httpx.get(f"{base_url}/healthz?live=1", timeout=1).status_code == 200:
                    if cpus:
                        cpu.pin_tree(server.pid, cpus)
                    return server, base_url
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        server.kill()
        raise RuntimeError("uvicorn did not start")

    def _print(self, console, calibration, runs) -> None:
        table = Table(title="Chat server overhead (ms)")
        for column in ["path", "concurrency", "requests", "measure", "p50", "p95", "max"]:
            table.add_column(column, justify="right")
        for row in runs:
            for measure in chat_figures.LATENCY_KEYS:
                s = row[measure]
                table.add_row(row["path"], str(row["concurrency"]), str(row["requests"]),
                              measure, f"{s['p50']:.1f}", f"{s['p95']:.1f}",
                              f"{s['max']:.1f}")  # fmt: skip
        console.print(table)
        table = Table(title="Server CPU (calibration: 1-token answers, one at a time)")
        columns = ["path", "concurrency", "answer_tokens", "cpu_ms_per_turn", "cpu_us_per_token",
                   "cpu_ms_pre_backend", "db_cpu_ms_per_turn", "server_core_share",
                   "harness_core_share"]  # fmt: skip
        for column in columns:
            table.add_column(column, justify="right")
        for row in [*calibration, *runs]:
            table.add_row(*("-" if row[c] is None else str(row[c]) for c in columns))
        console.print(table)


def _own_cpu_s() -> float:
    times = os.times()
    return times.user + times.system


def _db_tree() -> cpu.TreeCpu | None:
    """The embedded PostgreSQL's process tree (None with DATABASE_URL: not on this host
    as far as we know)."""
    if settings.DATABASES["default"]["ENGINE"] != "assistant.embedded_pg":
        return None
    from assistant.embedded_pg.lifecycle import running_server

    server = running_server(Path(settings.DATA_DIR))
    return cpu.TreeCpu(server.postmaster_pid) if server else None


def _machine() -> dict:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "processor": platform.processor() or platform.machine(),
    }
