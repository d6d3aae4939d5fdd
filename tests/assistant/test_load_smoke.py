"""The load test's scenario (deploy/load/locustfile.py) cannot rot: locust runs it for a
few seconds with three users against the web server (the Procfile's web command) and the
scripted backend, and every request, stream included, succeeds."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings

from assistant.management.commands.loadtest import locust_run, stack_running, stats_read
from tests.factories import user_create
from tests.pipeline.worker import RedisServer, database_url

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]
USERS = 3
PASSWORD = "load-smoke-password"


@pytest.fixture
def redis_url():
    server = RedisServer().start()
    yield server.url
    server.stop()


def test_three_users_chat_stream_and_search_memory_without_errors(tmp_path, redis_url):
    for index in range(USERS):
        user_create(f"smoke-{index}", password=PASSWORD)
    env = {
        "DEBUG": "true",
        "SECRET_KEY": django_settings.SECRET_KEY,
        "ASSISTANT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "DB_POOL": "false",
        "REDIS_URL": redis_url,
        "EMBEDDING_THREADS": "1",
    }
    locust_env = {
        "LOADTEST_USERS": str(USERS),
        "LOADTEST_PREFIX": "smoke-",
        "LOADTEST_PASSWORD": PASSWORD,
        "LOADTEST_THINK_S": "0.05,0.1",
        "LOADTEST_TURNS": "1",
    }
    prefix = tmp_path / "smoke"
    with stack_running(workers=1, env=env, tokens=5, gap_s=0.05) as (url, _):
        result = locust_run(
            base_url=url, users=USERS, spawn_rate=USERS, run_time=15, csv_prefix=prefix,
            env=locust_env,
        )  # fmt: skip
    assert prefix.with_name("smoke_stats.csv").exists(), result.stderr[-3000:]
    stats = stats_read(prefix)
    failures = prefix.with_name("smoke_failures.csv").read_text()
    assert stats["failures"] == 0, failures
    pages = stats["pages"]
    assert pages["sign in"]["requests"] == USERS, pages
    assert pages["stream: done"]["requests"] >= 1, pages  # answers streamed to the end
    assert pages["stream: first token"]["requests"] >= 1
    assert pages["memory: search"]["requests"] >= 1
