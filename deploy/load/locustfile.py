"""A load test that behaves like people using the chat (locust, headless or with its UI).

Each simulated user signs in once, then repeatedly: opens a new conversation, sends a
few messages and reads each answer's stream (SSE) to its `done` frame, pausing to read
between them, then opens the memory page and searches it. Run it against a running
stack whose users exist already: `python manage.py loadtest` creates them, starts the
stack with the scripted backend and runs this file for 10, 50, 100 and 200 users.

Environment (set by the loadtest command):
    LOADTEST_USERS       how many accounts exist, named LOADTEST_PREFIX0, 1, ...
    LOADTEST_PREFIX      their name prefix (default "load-")
    LOADTEST_PASSWORD    their shared password
    LOADTEST_THINK_S     "min,max" seconds a user pauses between actions (default "2,6")
    LOADTEST_TURNS       messages per conversation (default 2)

Besides the HTTP requests, two timings per answer are reported as their own rows:
"stream: first token" (GET sent -> first content frame) and "stream: done" (GET sent ->
done frame, the whole answer). A stream without a done frame, or with an error frame,
counts as a failure.
"""

from __future__ import annotations

import itertools
import os
import random
import re
import time

import gevent
from locust import HttpUser, task
from locust.exception import StopUser

USERS = int(os.environ.get("LOADTEST_USERS", "10"))
PREFIX = os.environ.get("LOADTEST_PREFIX", "load-")
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "")
THINK = tuple(float(x) for x in os.environ.get("LOADTEST_THINK_S", "2,6").split(","))
TURNS = int(os.environ.get("LOADTEST_TURNS", "2"))
SEARCHES = ["coffee", "birthday", "project deadline", "where do I live", "favourite food"]
STREAM_URL = re.compile(r'sse-connect="(/c/\d+/m/\d+/stream)"')
_accounts = itertools.count()


def _status(response) -> str:
    """The status code, or for 0 (no HTTP answer at all) the connection error behind it."""
    if response.status_code == 0 and response.error is not None:
        return f"0 ({type(response.error).__name__}: {response.error})"
    return str(response.status_code)


class ChatUser(HttpUser):
    # Pauses are taken inside the journey (think()); none between journeys beyond that.
    def wait_time(self) -> float:
        return 0.0

    def on_start(self) -> None:
        index = next(_accounts)
        if index >= USERS:
            raise StopUser  # more simulated users than accounts: this one stays idle
        self.username = f"{PREFIX}{index}"
        self.client.get("/accounts/login/", name="sign in: page")
        with self.client.post(
            "/accounts/login/",
            data={
                "username": self.username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self._csrf(),
            },
            headers={"Referer": f"{self.host}/accounts/login/"},
            allow_redirects=False,
            name="sign in",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"sign-in answered {_status(response)}, not a redirect")
                raise StopUser
        self.client.get("/", name="home")

    def think(self) -> None:
        gevent.sleep(random.uniform(*THINK))

    def _csrf(self) -> str:
        return self.client.cookies.get("csrftoken", "")

    def _htmx(self) -> dict[str, str]:
        return {
            "HX-Request": "true",
            "X-CSRFToken": self._csrf(),
            "Referer": f"{self.host}/",
        }

    @task
    def journey(self) -> None:
        with self.client.post(
            "/c/new",
            data={"profile": "fast", "csrfmiddlewaretoken": self._csrf()},
            headers={"Referer": f"{self.host}/"},
            allow_redirects=False,
            name="conversation: new",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"new conversation answered {_status(response)}")
                return
            location = response.headers["Location"]
        self.client.get(location, name="conversation: open")
        for turn in range(TURNS):
            self.think()  # typing
            if not self.send_and_stream(location, f"Hello from {self.username}, turn {turn}"):
                return
        self.think()  # reading
        self.client.get("/memory/", name="memory: page")
        self.think()
        self.client.get(
            "/memory/",
            params={"q": random.choice(SEARCHES)},
            headers={**self._htmx(), "HX-Target": "memory-results"},
            name="memory: search",
        )

    def send_and_stream(self, conversation_url: str, text: str) -> bool:
        with self.client.post(
            f"{conversation_url}send",
            data={"text": text},
            headers=self._htmx(),
            name="message: send",
            catch_response=True,
        ) as response:
            match = STREAM_URL.search(response.text or "")
            if response.status_code != 200 or not match:
                response.failure(f"send answered {_status(response)} without a stream")
                return False
        return self.stream(match.group(1))

    def stream(self, url: str) -> bool:
        started = time.perf_counter()
        first = None
        event = ""
        length = 0
        error = None
        done = False
        try:
            with self.client.get(
                url, stream=True, name="stream: open", timeout=120, catch_response=True
            ) as response:
                if response.status_code != 200:
                    response.failure(f"stream answered {_status(response)}")
                    return False
                for line in response.iter_lines(decode_unicode=True):
                    length += len(line) + 1
                    if line.startswith("event: "):
                        event = line[7:]
                        if event == "content" and first is None:
                            first = time.perf_counter()
                        elif event == "error":
                            error = "the stream sent an error frame"
                        elif event == "done":
                            done = True
                    elif done and line == "":
                        break  # the done frame is the last one
                response.success()
        except Exception as exc:  # a connection cut mid-stream
            error = f"{type(exc).__name__}: {exc}"
        if not done and error is None:
            error = "the stream ended without a done frame"
        if first is not None:
            self._report("stream: first token", first - started, 0, None)
        self._report("stream: done", time.perf_counter() - started, length, error)
        return error is None

    def _report(self, name: str, seconds: float, length: int, error: str | None) -> None:
        self.environment.events.request.fire(
            request_type="SSE",
            name=name,
            response_time=seconds * 1000,
            response_length=length,
            exception=Exception(error) if error else None,
            context={},
        )
