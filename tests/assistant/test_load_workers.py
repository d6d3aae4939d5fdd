"""Several web processes serve one user: what a request starts on one of them, another
can carry on or stop. Each process is the Procfile's web command with one worker (on its
own port, so the test picks which one answers); `--workers N` forks the same app N times
behind one port, with no state shared in memory, so this is what N workers face.

Stop is a flag in the database, the claim of an answer a conditional UPDATE, and the limits
are counted in Redis (tests/assistant/usage/test_two_processes.py), so none of them depends
on which process a request lands on."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from django.conf import settings as django_settings
from django.test import Client

from assistant.management.commands.loadtest import paced_reply
from assistant.management.commands.procfile import web_command
from assistant.models import Message
from inference.local_server import free_port
from tests.assistant.sse import parse_sse
from tests.factories import user_create
from tests.pipeline.worker import REPO, RedisServer, database_url, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(240)]
STREAM_URL = re.compile(r'sse-connect="(/c/\d+/m/\d+/stream)"')


class Web:
    def __init__(self, *, data_dir: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"web-{self.port}.log"
        self.env = {**os.environ, **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> Web:
        command = web_command(host="127.0.0.1", port=self.port, workers=1)
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*command, "--log-level", "warning"],
                cwd=REPO,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return self

    def ready(self) -> bool:
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
def webs(backend, tmp_path):
    redis = RedisServer().start()
    env = {
        "DEBUG": "true",
        "SECRET_KEY": django_settings.SECRET_KEY,  # the test's session cookie is valid
        "ASSISTANT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url(),
        "DB_POOL": "false",
        "REDIS_URL": redis.url,
        "FAST_BASE_URL": backend.base_url,
        "THINKING_BASE_URL": backend.base_url,
        "EMBEDDING_THREADS": "1",
        "PYTHONUNBUFFERED": "1",
    }
    started = [Web(data_dir=tmp_path, env=env).start() for _ in range(2)]
    try:
        for web in started:  # both start at once: their imports overlap
            wait_for(web.ready, timeout=120, what="the web process", log=web.log)
        yield started
    finally:
        for web in started:
            web.stop()
        redis.stop()


def read_stream(url: str, cookies: dict, seen_content: threading.Event | None = None) -> list:
    frames, buffer = [], ""
    with httpx.stream("GET", url, cookies=cookies, timeout=60) as response:
        assert response.status_code == 200
        for chunk in response.iter_text():
            buffer += chunk
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                frames += parse_sse(block + "\n\n")
                if seen_content and any(kind == "content" for kind, _ in frames):
                    seen_content.set()
    return frames


def test_send_stream_resume_stop_and_regenerate_across_two_processes(webs, backend):
    first, second = webs
    owner = user_create("wanda", password=None)
    signed_in = Client()
    signed_in.force_login(owner)
    cookies = {django_settings.SESSION_COOKIE_NAME: signed_in.cookies["sessionid"].value}
    page = httpx.get(f"{first.url}/", cookies=cookies)
    assert page.status_code == 200, page.text[:300]
    cookies[django_settings.CSRF_COOKIE_NAME] = page.cookies[django_settings.CSRF_COOKIE_NAME]
    headers = {"X-CSRFToken": cookies[django_settings.CSRF_COOKIE_NAME], "HX-Request": "true"}

    created = httpx.post(f"{first.url}/c/new", data={"profile": "fast"}, cookies=cookies,
                         headers=headers)  # fmt: skip
    assert created.status_code == 302, created.text[:300]
    conversation_url = created.headers["Location"]

    # A long answer (10 s), sent through the first process, streamed from the second.
    backend.responder = paced_reply(200, 0.05)
    sent = httpx.post(f"{first.url}{conversation_url}send", data={"text": "Tell me a story"},
                      cookies=cookies, headers=headers)  # fmt: skip
    assert sent.status_code == 200, sent.text[:300]
    stream_path = STREAM_URL.search(sent.text).group(1)
    answer_id = int(stream_path.split("/")[-2])
    streaming = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        live = pool.submit(read_stream, f"{second.url}{stream_path}", cookies, streaming)
        assert streaming.wait(30), "no content frame from the second process"

        # The browser reconnects and lands on the first process: the answer is not started
        # twice; it gets the message as it stands, in a done frame.
        again = read_stream(f"{first.url}{stream_path}", cookies)
        assert [kind for kind, _ in again] == ["done"]
        assert len(backend.requests) == 1

        # Stop, through the first process: the second one's stream ends, keeping the text.
        stopped = httpx.post(f"{first.url}{stream_path.removesuffix('stream')}stop",
                             cookies=cookies, headers=headers)  # fmt: skip
        assert stopped.status_code == 204
        frames = live.result(timeout=30)
    assert frames[-1][0] == "done"
    answer = Message.objects.get(pk=answer_id)
    assert answer.status == Message.Status.CANCELLED
    assert answer.content.startswith("tok0 ")
    assert len(answer.content.split()) < 200  # stopped before the end

    # Regenerate through the second process, streamed to the end by the first.
    backend.responder = paced_reply(5, 0.0)
    regenerated = httpx.post(
        f"{second.url}{stream_path.removesuffix('stream')}regenerate",
        cookies=cookies,
        headers=headers,
    )
    assert regenerated.status_code == 200, regenerated.text[:300]
    new_path = STREAM_URL.search(regenerated.text).group(1)
    frames = read_stream(f"{first.url}{new_path}", cookies)
    assert frames[-1][0] == "done"
    new_answer = Message.objects.get(pk=int(new_path.split("/")[-2]))
    assert new_answer.status == Message.Status.COMPLETE
    assert new_answer.content == "tok0 tok1 tok2 tok3 tok4 "
    assert len(backend.requests) == 2
