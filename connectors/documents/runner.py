"""The calling side of the extraction worker: one reusable worker process per calling
process, a wall-clock limit per file, and a fresh worker after a timeout or a crash.

A subprocess (not multiprocessing) because Celery's prefork children are daemonic and
may not start multiprocessing children; `subprocess` works anywhere. Reusing the worker
keeps the cost per small file to a JSON round trip instead of a Python start (about half
a second with the parsers imported). Calls are serialised by a lock: one file at a time
per calling process, as in a Celery child. After a fork (Celery starting its children)
the child forgets the parent's worker and starts its own.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from connectors.documents.results import Extracted, Skipped, SkipReason, from_json

ROOT = Path(__file__).resolve().parents[2]  # where `connectors` is importable from
START_TIMEOUT_S = 60.0
MEMORY_MB = 2048  # the worker's address-space cap: a hostile file fails there, not here
RECYCLE_AFTER = 250  # files per worker: a long-lived parser process only ever grows
IDLE_EXIT_S = 600.0  # the worker leaves after this long without a file...
IDLE_RESTART_S = 540.0  # ...so one idle this long is replaced rather than raced


class WorkerTimeout(Exception):
    pass


class WorkerDied(Exception):
    pass


class _Worker:
    def __init__(self) -> None:
        path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
        self.process = subprocess.Popen(
            [sys.executable, "-m", "connectors.documents.worker", str(MEMORY_MB), str(IDLE_EXIT_S)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            bufsize=0,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": path},
        )
        self.owner = os.getpid()
        self.files = 0
        self.used = time.monotonic()
        self.pending = bytearray()
        try:
            ready = self._read_line(time.monotonic() + START_TIMEOUT_S)
        except (WorkerTimeout, WorkerDied) as error:
            self.kill()
            raise RuntimeError(
                "The document extraction worker did not start (python -m "
                "connectors.documents.worker); its error is in this process's stderr."
            ) from error
        if json.loads(ready) != {"ready": True}:
            self.kill()
            raise RuntimeError(f"The document extraction worker said {ready!r} on start.")

    def _read_line(self, deadline: float) -> bytes:
        assert self.process.stdout is not None
        fd = self.process.stdout.fileno()
        while (newline := self.pending.find(b"\n")) < 0:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WorkerTimeout
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise WorkerTimeout
            block = os.read(fd, 1 << 20)
            if not block:
                raise WorkerDied
            self.pending += block
        line = bytes(self.pending[:newline])
        del self.pending[: newline + 1]
        return line

    def ask(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any]:
        assert self.process.stdin is not None
        deadline = time.monotonic() + timeout_s
        try:
            self.process.stdin.write(json.dumps(request).encode() + b"\n")
        except (BrokenPipeError, OSError) as error:
            raise WorkerDied from error
        reply = json.loads(self._read_line(deadline))
        self.files += 1
        self.used = time.monotonic()
        return reply

    def usable(self) -> bool:
        return (
            self.owner == os.getpid()
            and self.process.poll() is None
            and self.files < RECYCLE_AFTER
            and time.monotonic() - self.used < IDLE_RESTART_S
        )

    def close(self) -> None:
        """Ends the worker: stdin closed (it exits by itself), killed if it lingers."""
        if self.owner != os.getpid():
            return  # the parent's worker, inherited through fork: not ours to end
        try:
            if self.process.stdin:
                self.process.stdin.close()
            self.process.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout):
            if stream:
                stream.close()


_lock = threading.Lock()
_worker: _Worker | None = None


def _forget_after_fork() -> None:
    global _lock, _worker
    _lock = threading.Lock()
    _worker = None


os.register_at_fork(after_in_child=_forget_after_fork)


def run_in_worker(request: dict[str, Any], *, timeout_s: float) -> Extracted | Skipped:
    """The worker's answer for one file, or `timeout` (worker killed) or `corrupt` (the
    worker died on the file); either way the next call gets a fresh worker."""
    global _worker
    with _lock:
        if _worker is not None and not _worker.usable():
            _worker.close()
            _worker = None
        if _worker is None:
            _worker = _Worker()
        worker = _worker
        try:
            reply = worker.ask(request, timeout_s)
        except WorkerTimeout:
            worker.kill()
            _worker = None
            return Skipped(
                SkipReason.TIMEOUT,
                f"Reading this file took longer than {timeout_s:g} s and was stopped "
                "(DOCUMENT_EXTRACT_TIMEOUT_S). A very large or unusual file can do this: "
                "save it again or split it, then re-add it.",
            )
        except WorkerDied:
            worker.kill()
            _worker = None
            return Skipped(
                SkipReason.CORRUPT,
                "The document reader crashed on this file (damaged, or built to break "
                "readers). Open it, save it again and re-add it.",
            )
    return from_json(reply)


def shutdown() -> None:
    """Ends this process's worker, if any (tests, and a clean exit)."""
    global _worker
    with _lock:
        if _worker is not None:
            _worker.close()
            _worker = None


atexit.register(shutdown)
