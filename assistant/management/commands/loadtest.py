"""Load-test the running stack as users behave (deploy/load/locustfile.py, headless).

Creates the accounts up front (one shared password, a few memories each so the memory
search has something to find), starts a scripted OpenAI-compatible backend that streams
paced tokens (like a busy GPU) and the web server with the Procfile's web command
(`--workers WEB_CONCURRENCY`), then runs locust for each user count and writes its CSV
files and one JSON summary: requests per second, p50/p95 per page, failures, and the
server's CPU seconds and memory. The accounts are deleted at the end.

Users arrive at `--spawn-rate` a second (a team signing in over a few minutes, not all at
once); `--run-time` is how long each count runs once all its users are in, so every count
is measured at steady state after its ramp (locust's figures include the ramp: sign-ins
and any errors while users arrive are counted too).

Run: python manage.py loadtest [--users 10,50,100,200] [--run-time 120] [--out DIR]
"""

from __future__ import annotations

import csv
import json
import math
import os
import platform
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import httpx
import psutil
import redis
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError

from assistant import embedded
from assistant.management.commands.procfile import web_command, web_workers
from inference.local_server import free_port
from memory.embedding import embed_texts
from memory.management.schema import require_schema
from memory.services.items import memory_bulk_create

REPO = Path(__file__).resolve().parents[3]
LOCUSTFILE = REPO / "deploy" / "load" / "locustfile.py"
PREFIX = "load-"
MEMORIES = [
    "I drink my coffee black, no sugar.",
    "My sister's birthday is on the 14th of March.",
    "The project deadline for the launch is the end of the quarter.",
    "I live in Lyon, near the Croix-Rousse.",
    "My favourite food is a mushroom risotto.",
    "I am allergic to peanuts.",
    "I run on Tuesday and Thursday mornings.",
    "My manager is called Ines.",
]


def paced_reply(tokens: int, gap_s: float):
    """The scripted backend's answer: first token at once, then one every `gap_s`."""

    def reply(request: dict) -> list:
        chunks: list = []
        for i in range(tokens):
            if i and gap_s:
                chunks.append(("sleep", gap_s))
            chunks.append({"content": f"tok{i} "})
        return chunks

    return reply


def accounts_create(*, count: int, password: str, prefix: str = PREFIX) -> list:
    """`count` accounts named prefix0.. with one password, each with a few memories."""
    User = get_user_model()
    User.objects.filter(username__startswith=prefix).delete()
    hashed = make_password(password)  # hashed once: the same password for all of them
    users = User.objects.bulk_create(
        [User(username=f"{prefix}{i}", password=hashed) for i in range(count)]
    )
    vectors = list(embed_texts(MEMORIES))
    items = [{"text": text} for text in MEMORIES]
    for user in users:
        memory_bulk_create(owner=user, items=items, actor="import", vectors=vectors)
    return users


def accounts_delete(*, prefix: str = PREFIX) -> None:
    get_user_model().objects.filter(username__startswith=prefix).delete()


@contextmanager
def stack_running(
    *, workers: int, env: dict[str, str], tokens: int, gap_s: float, settle: bool = True
) -> Iterator[tuple[str, subprocess.Popen]]:
    """The scripted backend and the web server (the Procfile's web command); yields
    (base_url, server process). `settle` waits until every worker is up and its embedder
    warm-up is over (measurements must not count it)."""
    from scripted_backend import ScriptedBackend  # test support, in the source checkout

    with _redis_running(env), ScriptedBackend() as backend:
        backend.responder = paced_reply(tokens, gap_s)
        port = free_port()
        command = web_command(host="127.0.0.1", port=port, workers=workers)
        command += ["--log-level", "warning", "--no-access-log"]
        server_env = {
            **os.environ,
            "FAST_BASE_URL": backend.base_url,
            "THINKING_BASE_URL": backend.base_url,
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        server_env.setdefault("DEBUG", "true" if settings.DEBUG else "false")
        # Plain HTTP on loopback: production's TLS ends at the proxy, which this run has
        # none of, so Secure cookies would never come back and every sign-in would be a 403.
        server_env.setdefault("SESSION_COOKIE_SECURE", "false")
        server = subprocess.Popen(command, cwd=REPO, env=server_env)
        base_url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(base_url, server, workers if settle else 0)
            yield base_url, server
        finally:
            server.terminate()
            try:
                server.wait(20)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(5)


@contextmanager
def _redis_running(env: dict[str, str]) -> Iterator[None]:
    """The embedded Redis (the Procfile's redis line) unless REDIS_URL names one, or the
    embedded one already runs (`make run` is up)."""
    if "REDIS_URL" in env or not settings.EMBEDDED_REDIS or _redis_answers():
        yield
        return
    process = subprocess.Popen(
        embedded.redis_command(settings.DATA_DIR),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not _redis_answers():
            if time.monotonic() > deadline or process.poll() is not None:
                raise CommandError("the embedded Redis did not start")
            time.sleep(0.1)
        yield
    finally:
        process.terminate()
        process.wait(10)


def _redis_answers() -> bool:
    try:
        return bool(
            redis.Redis(unix_socket_path=str(embedded.redis_socket(settings.DATA_DIR))).ping()
        )
    except redis.RedisError:
        return False


def _wait_ready(base_url: str, server: subprocess.Popen, workers: int) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise CommandError(f"the web server exited ({server.returncode})")
        try:
            healthy = httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            healthy = False
        if healthy and not workers:
            return
        # Every worker up (each one imports the app), and their embedder warm-ups over.
        if healthy and len(server_processes(server)) >= workers + (workers > 1):
            time.sleep(0.5)
            if server_cpu_busy(server, seconds=1.0) < 0.2:
                return
        time.sleep(0.5)
    raise CommandError("the web server did not become ready within 120 s")


def server_processes(server: subprocess.Popen) -> list[psutil.Process]:
    try:
        root = psutil.Process(server.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def server_cpu_seconds(server: subprocess.Popen) -> float:
    total = 0.0
    for process in server_processes(server):
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def server_cpu_busy(server: subprocess.Popen, *, seconds: float) -> float:
    """Cores the server used over the next `seconds` (0.0 idle, 1.0 one core)."""
    before = server_cpu_seconds(server)
    time.sleep(seconds)
    return (server_cpu_seconds(server) - before) / seconds


def server_rss_mb(server: subprocess.Popen) -> list[float]:
    sizes = []
    for process in server_processes(server):
        with suppress(psutil.NoSuchProcess):
            sizes.append(round(process.memory_info().rss / 2**20, 1))
    return sizes


def locust_run(
    *, base_url: str, users: int, spawn_rate: float, run_time: int, csv_prefix: Path,
    env: dict[str, str],
) -> subprocess.CompletedProcess:  # fmt: skip
    ramp_s = math.ceil(users / spawn_rate)
    command = [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
        "--users", str(users), "--spawn-rate", str(spawn_rate),
        "--run-time", f"{ramp_s + run_time}s",
        "--host", base_url, "--csv", str(csv_prefix), "--only-summary", "--stop-timeout", "30",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    return subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=ramp_s + run_time + 300,
    )


def stats_read(csv_prefix: Path) -> dict:
    """locust's <prefix>_stats.csv as {"pages": {name: {...}}, "http": {...}, "answers":
    {...}}: "http" sums the HTTP requests (not the SSE timings, which locust's own
    Aggregated row counts as requests too), "answers" is the streams read to the end."""
    pages: dict[str, dict] = {}
    with Path(f"{csv_prefix}_stats.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row["Name"] == "Aggregated":
                continue
            pages[row["Name"]] = {
                "type": row["Type"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "requests_per_s": round(float(row["Requests/s"]), 2),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "max_ms": round(float(row["Max Response Time"]), 1),
            }
    http = [page for page in pages.values() if page["type"] != "SSE"]
    done = pages.get("stream: done", {})
    return {
        "pages": pages,
        "http": {
            "requests": sum(page["requests"] for page in http),
            "requests_per_s": round(sum(page["requests_per_s"] for page in http), 2),
        },
        "answers": {
            "count": done.get("requests", 0),
            "per_s": done.get("requests_per_s", 0.0),
        },
        "failures": sum(page["failures"] for page in pages.values()),
    }


def failures_read(csv_prefix: Path) -> list[dict]:
    path = Path(f"{csv_prefix}_failures.csv")
    if not path.exists():
        return []
    with path.open() as handle:
        return list(csv.DictReader(handle))


def _number(text: str) -> float | None:
    return None if text in ("", "N/A") else float(text)


class Command(BaseCommand):
    help = "Load-test the stack with locust (sign in, chat, stream, memory page and search)."

    def add_arguments(self, parser):
        parser.add_argument("--users", default="10,50,100,200")
        parser.add_argument(
            "--run-time", type=int, default=120, help="seconds per count once all users are in"
        )
        parser.add_argument("--spawn-rate", type=float, default=1.0, help="users arriving a second")
        parser.add_argument("--workers", type=int, default=None, help="default WEB_CONCURRENCY")
        parser.add_argument("--tokens", type=int, default=30, help="tokens per answer")
        parser.add_argument("--token-gap", type=float, default=0.1, help="seconds per token")
        parser.add_argument("--think", default="5,15", help="min,max seconds between actions")
        parser.add_argument("--out", default="bench-results/load")

    def handle(self, *args, users, run_time, spawn_rate, workers, tokens, token_gap, think,
               out, **options):  # fmt: skip
        require_schema()
        levels = [int(n) for n in users.split(",")]
        workers = workers or web_workers()
        out_dir = Path(out)
        out_dir.mkdir(parents=True, exist_ok=True)
        password = secrets.token_urlsafe(12)
        self.stdout.write(f"Creating {max(levels)} accounts with memories...")
        accounts_create(count=max(levels), password=password)
        locust_env = {
            "LOADTEST_USERS": str(max(levels)),
            "LOADTEST_PREFIX": PREFIX,
            "LOADTEST_PASSWORD": password,
            "LOADTEST_THINK_S": think,
        }
        runs = []
        try:
            with stack_running(workers=workers, env={}, tokens=tokens, gap_s=token_gap) as (
                base_url,
                server,
            ):
                idle_rss = server_rss_mb(server)
                for level in levels:
                    runs.append(
                        self._one_run(base_url, server, level, spawn_rate, run_time, out_dir,
                                      locust_env)
                    )  # fmt: skip
        finally:
            accounts_delete()
        report = {
            "benchmark": "loadtest",
            "machine": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cpus": os.cpu_count(),
                "processor": platform.processor() or platform.machine(),
            },
            "web_workers": workers,
            "server_rss_mb_idle": idle_rss,
            "answer": {"tokens": tokens, "token_gap_s": token_gap},
            "think_s": think,
            "run_time_s": run_time,
            "runs": runs,
        }
        (out_dir / "loadtest.json").write_text(json.dumps(report, indent=2))
        self.stdout.write(f"Wrote {out_dir / 'loadtest.json'}")
        if any(run["failures"] for run in runs):
            raise CommandError("some requests failed: see the *_failures.csv files")

    def _one_run(self, base_url, server, level, spawn_rate, run_time, out_dir, env) -> dict:
        prefix = out_dir / f"users-{level}"
        load_before = os.getloadavg()
        cpu_before = server_cpu_seconds(server)
        started = time.monotonic()
        result = locust_run(
            base_url=base_url, users=level, spawn_rate=spawn_rate, run_time=run_time,
            csv_prefix=prefix, env=env,
        )  # fmt: skip
        elapsed = time.monotonic() - started
        if not Path(f"{prefix}_stats.csv").exists():
            raise CommandError(f"locust wrote no stats:\n{result.stderr[-3000:]}")
        stats = stats_read(prefix)
        run = {
            "users": level,
            **stats,
            "failure_reasons": failures_read(prefix),
            "server_cpu_s": round(server_cpu_seconds(server) - cpu_before, 1),
            "server_cores_busy": round((server_cpu_seconds(server) - cpu_before) / elapsed, 2),
            "server_rss_mb": server_rss_mb(server),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
        }
        self.stdout.write(
            f"{level} users: {stats['http']['requests_per_s']} requests/s, "
            f"{stats['answers']['per_s']} answers/s, {stats['failures']} failures, "
            f"server {run['server_cores_busy']} cores"
        )
        return run
