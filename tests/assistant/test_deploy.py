"""The documented production settings: `check --deploy` is clean, the health probe passes."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

from tests.conftest import serve_asgi
from tests.pipeline.worker import RedisServer

ROOT = Path(__file__).resolve().parents[2]
DEPLOY_README = ROOT / "deploy" / "README.md"
ENV_EXAMPLE = ROOT / "deploy" / ".env.example"


def production_settings() -> dict[str, str]:
    """The `.env` block under "Production settings (HTTPS)" in deploy/README.md."""
    text = DEPLOY_README.read_text()
    section = text[text.index("**Production settings (HTTPS).**") :]
    block = re.search(r"```sh\n(.*?)```", section, re.S).group(1)
    values = {}
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def test_the_production_block_is_complete_and_in_the_env_example():
    values = production_settings()
    assert values["DEBUG"] == "false"
    for name in ("ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        assert name in values
    example = ENV_EXAMPLE.read_text()
    for name, value in values.items():
        if name not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"):
            assert f"# {name}={value}\n" in example, f"{name} is not documented in .env.example"


def test_check_deploy_passes_with_the_documented_production_settings():
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(settings.DATA_DIR),
        **production_settings(),
        "SECRET_KEY": secrets.token_urlsafe(50),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout + result.stderr


@pytest.fixture
def redis_running(settings):
    """/healthz answers 200 only while the database and Redis do."""
    server = RedisServer().start()
    settings.REDIS_URL = server.url
    yield server
    server.stop()


def test_healthcheck_passes_with_the_recommended_allowed_hosts(
    transactional_db, settings, redis_running
):
    settings.ALLOWED_HOSTS = production_settings()["ALLOWED_HOSTS"].split(",")
    settings.SECURE_SSL_REDIRECT = True
    settings.DEBUG = False
    # A fresh handler: middleware reads these settings when it is built.
    with serve_asgi(ASGIHandler()) as server:
        probe = subprocess.run(
            [sys.executable, str(ROOT / "deploy" / "healthcheck.py"), f"{server}/healthz"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert probe.returncode == 0, probe.stderr

        # The host check and the HTTPS redirect still hold for everything else.
        other_host = httpx.get(f"{server}/accounts/login/", headers={"Host": "localhost"})
        assert other_host.status_code == 400
        public = httpx.get(f"{server}/accounts/login/", headers={"Host": "assistant.example.com"})
        assert public.status_code == 301
        assert public.headers["location"] == "https://assistant.example.com/accounts/login/"
