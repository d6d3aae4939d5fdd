"""Settings come from the environment; a bad value stops start-up with a hint."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from assistant.config import env_bool, env_int, env_list, env_secret, env_url


def start_django(**env: str) -> subprocess.CompletedProcess:
    """Import the real settings in a fresh process with `env` on top of ours."""
    environment = {**os.environ, "ASSISTANT_DATA_DIR": str(settings.DATA_DIR), **env}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "hint"),
    [
        ({"DEBUG": "maybe"}, "DEBUG='maybe' is not a boolean"),
        ({"MAX_MESSAGE_CHARS": "lots"}, "MAX_MESSAGE_CHARS='lots' is not a whole number"),
        ({"INFERENCE_BASE_URL": "localhost:8000"}, "INFERENCE_BASE_URL='localhost:8000'"),
        ({"DEFAULT_MODEL_PROFILE": "turbo"}, "use one of thinking, fast"),
        ({"DEBUG": "false", "SECRET_KEY": "", "SECRET_KEY_FILE": ""}, "SECRET_KEY is not set"),
        ({"CONNECTOR_ENCRYPTION_KEYS": "not-a-key"}, "is not a Fernet key"),
    ],
)
def test_bad_values_stop_start_up_with_a_hint(env, hint):
    result = start_django(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert hint in result.stderr


def test_good_values_start(tmp_path):
    key = tmp_path / "key"
    key.write_text("a-long-random-test-secret-from-a-file\n")
    result = start_django(DEBUG="false", SECRET_KEY="", SECRET_KEY_FILE=str(key))
    assert result.returncode == 0, result.stderr


def test_production_needs_the_connector_key(tmp_path):
    (tmp_path / "secret_key").write_text("a-long-random-test-secret-from-a-file\n")
    result = start_django(
        DEBUG="false", ASSISTANT_DATA_DIR=str(tmp_path), CONNECTOR_ENCRYPTION_KEYS=""
    )
    assert result.returncode != 0
    assert "CONNECTOR_ENCRYPTION_KEYS is not set" in result.stderr
    assert "make run" in result.stderr


def test_readers(monkeypatch, tmp_path):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "0")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL", False) is True
    assert env_list("X_LIST", []) == ["a", "b", "c"]
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_INT", 5, minimum=1)
    assert env_url("X_UNSET_URL", schemes=("http",)) is None
    monkeypatch.setenv("X_SECRET_FILE", str(tmp_path / "missing"))
    with pytest.raises(ImproperlyConfigured, match="not a file"):
        env_secret("X_SECRET")
