"""/healthz: readiness checks the database and Redis, liveness (?live=1) only the process;
both answer before the host check, and deploy/healthcheck.py follows the readiness answer."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
from django.core.handlers.asgi import ASGIHandler
from django.db import OperationalError
from django.test import Client

from assistant import middleware
from tests.conftest import serve_asgi
from tests.deploy_k8s.env_names import ROOT
from tests.pipeline.worker import RedisServer

HEALTHCHECK = ROOT / "deploy" / "healthcheck.py"
DEAD_REDIS = "redis://127.0.0.1:9/0"


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def production(settings):
    settings.DEBUG = False
    settings.ALLOWED_HOSTS = ["assistant.example.com"]
    settings.SECURE_SSL_REDIRECT = True


def probe(url: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(HEALTHCHECK), url], capture_output=True, text=True, timeout=30
    )


def test_ready_when_the_database_and_redis_answer(
    transactional_db, settings, production, redis_server
):
    settings.REDIS_URL = redis_server.url
    with serve_asgi(ASGIHandler()) as server:
        answer = httpx.get(f"{server}/healthz")
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok", "database": "ok", "redis": "ok"}
        assert httpx.head(f"{server}/healthz").status_code == 200
        assert probe(f"{server}/healthz").returncode == 0


def test_not_ready_without_redis_but_alive(transactional_db, settings, production):
    settings.REDIS_URL = DEAD_REDIS
    with serve_asgi(ASGIHandler()) as server:
        answer = httpx.get(f"{server}/healthz")
        assert answer.status_code == 503
        assert answer.json() == {"status": "fail", "database": "ok", "redis": "fail"}
        live = httpx.get(f"{server}/healthz?live=1")
        assert (live.status_code, live.json()) == (200, {"status": "ok"})
        failed = probe(f"{server}/healthz")
        assert failed.returncode == 1 and "HTTP 503" in failed.stderr
        assert probe(f"{server}/healthz?live=1").returncode == 0


def test_not_ready_without_the_database(db, settings, production, redis_server, monkeypatch):
    settings.REDIS_URL = redis_server.url

    class Unreachable:
        def cursor(self):
            raise OperationalError("connection refused")

    monkeypatch.setattr(middleware, "connection", Unreachable())
    # The sync path (Django's test client runs the WSGI handler): the same answer as ASGI.
    answer = Client().get("/healthz", HTTP_HOST="10.0.0.7:8000")
    assert answer.status_code == 503
    assert answer.json() == {"status": "fail", "database": "fail", "redis": "ok"}
    # The cause goes to the log only; the body names no host, error or version.
    assert "refused" not in answer.content.decode()
    live = Client().get("/healthz?live=1", HTTP_HOST="10.0.0.7:8000")
    assert live.status_code == 200


def test_other_paths_still_get_the_host_check(transactional_db, settings, production):
    settings.REDIS_URL = DEAD_REDIS
    with serve_asgi(ASGIHandler()) as server:
        assert httpx.get(f"{server}/healthz/").status_code != 200
        assert httpx.post(f"{server}/healthz").status_code == 400
