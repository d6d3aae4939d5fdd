"""Newcomer paths, in real subprocesses on a fresh data dir: commands need no extra
variables after `make run`, stop with a hint instead of a traceback before migrations,
and never leave behind an embedded PostgreSQL they started; `make run`'s keeper holds
the server for the commands run meanwhile. The Makefile keeps everything in the data dir."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from assistant.embedded_pg.lifecycle import running_server
from tests.pipeline.worker import wait_for

REPO = Path(__file__).resolve().parents[2]
UNSET = (
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FILE",
    "CONNECTOR_ENCRYPTION_KEYS",
    "DATABASE_URL",
    "DJANGO_SETTINGS_MODULE",
)

pytestmark = pytest.mark.timeout(300)


def environment(data_dir: Path) -> dict[str, str]:
    """What a newcomer's shell has after `make run`: no DEBUG, no secrets, no URLs."""
    env = {key: value for key, value in os.environ.items() if key not in UNSET}
    return {**env, "ASSISTANT_DATA_DIR": str(data_dir), "EMBEDDING_THREADS": "1"}


def manage(data_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=environment(data_dir),
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def keys_write(folder: Path) -> None:
    """The two keys `make run` generates into a data dir."""
    (folder / "secret_key").write_text(secrets.token_urlsafe(50))
    (folder / "connector_keys").write_text(Fernet.generate_key().decode() + "\n")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data dir as `make run` leaves it before its first migration: just the keys."""
    folder = tmp_path_factory.mktemp("fresh")
    keys_write(folder)
    yield folder
    if running_server(folder) is not None:  # never leave a server behind, even on failure
        from assistant import embedded

        embedded.stop_postgres(folder)


def test_a_command_needs_no_variables_and_starts_nothing_it_does_not_need(tmp_path):
    data_dir = tmp_path
    keys_write(data_dir)
    result = manage(data_dir, "help", "memory_backfill")
    assert result.returncode == 0, result.stderr
    assert "usage: manage.py memory_backfill" in result.stdout
    assert not (data_dir / "postgres").exists()  # help never started PostgreSQL


def test_a_bench_before_migrations_says_what_to_run_and_stops_its_server(data_dir):
    result = manage(data_dir, "bench_memory", "scale", "--per-user", "1", "--users", "1")
    assert result.returncode == 1
    assert "make run" in result.stderr and "manage.py migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert (data_dir / "postgres" / "PG_VERSION").exists()  # it did start the server...
    assert running_server(data_dir) is None  # ...and stopped it on the way out


def test_the_schema_hint_also_covers_a_command_without_its_own_check(data_dir):
    code = "from django.contrib.auth.models import User; User.objects.count()"
    result = manage(data_dir, "shell", "-c", code)
    assert result.returncode == 1
    assert 'relation "auth_user" does not exist' in result.stderr and "make run" in result.stderr
    assert "Traceback" not in result.stderr
    assert running_server(data_dir) is None


def test_commands_attach_to_the_keeper_of_make_run_and_leave_its_server_running(data_dir):
    log = data_dir / "keeper.log"
    with log.open("wb") as out:
        keeper = subprocess.Popen(
            [sys.executable, "-m", "assistant.embedded_process", "postgres", str(data_dir)],
            cwd=REPO, env=environment(data_dir), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_for(lambda: "ready" in log.read_text(), timeout=120, what="the keeper", log=log)
        server = running_server(data_dir)
        assert server is not None

        code = "from django.db import connection; connection.ensure_connection(); print('ok')"
        result = manage(data_dir, "shell", "-c", code)
        assert result.returncode == 0 and "ok" in result.stdout, result.stderr
        assert running_server(data_dir) == server  # the same server, still running
    finally:
        keeper.terminate()
        keeper.wait(60)
    assert running_server(data_dir) is None  # Ctrl-C on `make run` stops it


def test_make_run_keeps_secret_key_and_procfile_in_the_data_dir(tmp_path):
    env = {**environment(tmp_path / "elsewhere"), "MAKEFLAGS": ""}
    result = subprocess.run(
        ["make", "-n", "run"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert f"> {tmp_path}/elsewhere/secret_key" in result.stdout
    assert f"SECRET_KEY_FILE:-{tmp_path}/elsewhere/secret_key" in result.stdout
    assert f"{tmp_path}/elsewhere/Procfile" in result.stdout
    assert f"> {tmp_path}/elsewhere/connector_keys" in result.stdout
    assert f"{REPO}/var" not in result.stdout
