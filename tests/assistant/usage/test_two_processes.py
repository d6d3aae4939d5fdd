"""The limits hold across web processes: two uvicorn processes (as a deployment runs
several) share one Redis; requests sent alternately to both are counted together, so N
are allowed in total and then either process answers 429."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from assistant.models import Conversation
from inference.local_server import free_port
from tests.factories import user_create
from tests.pipeline.worker import REPO, database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(180)]
LIMIT = 3


class WebProcess:
    """`python -m uvicorn assistant.asgi:application` against the test database."""

    def __init__(self, *, data_dir: Path, **env: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"web-{self.port}.log"
        self.env = {
            **os.environ,
            "DEBUG": "true",
            "SECRET_KEY": django_settings.SECRET_KEY,  # the test's session cookie is valid
            "ASSISTANT_DATA_DIR": str(data_dir),
            "DATABASE_URL": database_url(),
            "DB_POOL": "false",
            "INFERENCE_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",  # never called here
            "EMBEDDING_THREADS": "1",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: subprocess.Popen | None = None

    def start(self) -> WebProcess:
        command = [
            sys.executable, "-m", "uvicorn", "assistant.asgi:application",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        wait_for(self._ready, timeout=90, what="the web process", log=self.log)
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"uvicorn exited early:\n{self.log.read_text()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture
def web_processes(redis_limits, tmp_path):
    env = {"REDIS_URL": redis_limits.url, "LIMIT_USER_REQUESTS_PER_MINUTE": str(LIMIT)}
    started = [WebProcess(data_dir=tmp_path, **env) for _ in range(2)]
    try:
        for process in started:
            process.start()
        yield started
    finally:
        for process in started:
            process.stop()


def _early_in_a_minute() -> None:
    """The count is per UTC minute: start with time to spare before the next one."""
    second = time.time() % 60
    if second > 40:
        time.sleep(61 - second)


def test_the_limit_holds_across_two_web_processes(web_processes, redis_limits):
    owner = user_create("olivia", password=None)
    conversation = Conversation.objects.create(owner=owner)
    signed_in = Client()
    signed_in.force_login(owner)  # the session row both processes read
    cookies = {django_settings.SESSION_COOKIE_NAME: signed_in.cookies["sessionid"].value}
    first, second = web_processes
    page = httpx.get(f"{first.url}/c/{conversation.pk}/", cookies=cookies)
    assert page.status_code == 200, page.text[:300]
    cookies[django_settings.CSRF_COOKIE_NAME] = page.cookies[django_settings.CSRF_COOKIE_NAME]
    headers = {"X-CSRFToken": cookies[django_settings.CSRF_COOKIE_NAME], "HX-Request": "true"}

    _early_in_a_minute()
    statuses = []
    for index in range(LIMIT + 2):
        process = web_processes[index % 2]  # alternately
        response = httpx.post(
            f"{process.url}/c/{conversation.pk}/send",
            data={"text": f"Message {index}"},
            cookies=cookies,
            headers=headers,
        )
        statuses.append((process.port, response.status_code))
        if response.status_code == 429:
            assert "limit of 3 requests a minute" in response.text
            assert int(response.headers["Retry-After"]) >= 1
        # As if the answer's stream finished: the next message may start.
        conversation.messages.filter(role="assistant").update(status="complete")

    assert [code for _, code in statuses] == [200, 200, 200, 429, 429]
    assert {port for port, code in statuses if code == 429} == {first.port, second.port}
    assert conversation.messages.filter(role="user").count() == LIMIT
