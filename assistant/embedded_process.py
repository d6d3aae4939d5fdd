"""Foreground wrappers for embedded services, run as Procfile processes by honcho.

    python -m assistant.embedded_process postgres DATA_DIR

keeps the embedded PostgreSQL running while it lives (commands run meanwhile attach to
it and leave it running) and stops it cleanly on Ctrl-C/SIGTERM. Redis and llama.cpp
run as plain commands (see `manage.py procfile`).
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from assistant.embedded_pg import lifecycle


def run_postgres(data_dir: Path) -> int:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    server = lifecycle.postgres_ensure(data_dir, keeper=True)
    print(f"PostgreSQL + pgvector ready (socket in {server.socket_dir})", flush=True)
    stop.wait()
    print("Stopping PostgreSQL…", flush=True)
    if not lifecycle.postgres_release(data_dir):
        print("PostgreSQL keeps running for the commands still using it.", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] != "postgres":
        print("usage: python -m assistant.embedded_process postgres DATA_DIR", file=sys.stderr)
        return 2
    return run_postgres(Path(argv[2]).resolve())


if __name__ == "__main__":
    sys.exit(main(sys.argv))
