"""Usage tests: the teams' personas, a real Redis for the limits, prices of our own."""

from __future__ import annotations

import pytest

from tests.assistant.teams.conftest import people  # noqa: F401 (the personas fixture)
from tests.pipeline.worker import RedisServer

PRICES = {
    "deepseek-r1": (0.55, 2.19),
    "o1": (15.0, 60.0),
    "scripted-fast": (1.0, 2.0),
}


@pytest.fixture(autouse=True)
def prices(settings):
    settings.MODEL_PRICES = dict(PRICES)
    settings.USAGE_COMPARE_MODELS = ["deepseek-r1", "o1"]


@pytest.fixture(scope="session")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def redis_limits(redis_server, settings):
    """Limits counted in a real redis-server (emptied before each test)."""
    redis_server.flush()
    settings.REDIS_URL = redis_server.url
    return redis_server
