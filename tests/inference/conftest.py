"""One scripted server per module for the inference client's tests (reset per test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inference import BackendConfig
from scripted_backend import ScriptedBackend

MESSAGES = [{"role": "user", "content": "Hi there"}]


@pytest.fixture(scope="module")
def server() -> Iterator[ScriptedBackend]:
    with ScriptedBackend() as backend:
        yield backend


@pytest.fixture
def backend(server: ScriptedBackend) -> ScriptedBackend:
    server.reset()
    return server


@pytest.fixture
def config(backend: ScriptedBackend) -> BackendConfig:
    return BackendConfig(base_url=backend.base_url, model="scripted-model", timeout_s=5)
