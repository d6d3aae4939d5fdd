"""Browser-test fixtures: Debian's Chromium; `asgi_server` lives in tests/conftest.py."""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

import pytest
from django.db import connection as db_connection
from django.db import transaction

from assistant.background.syncs import connection_sync_run
from connectors import hooks

CHROMIUM = "/usr/bin/chromium"
# Chromium flags for a closed network and a root user (see the machine notes).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct-horse-1"  # every browser-test persona's password
SCREENSHOTS = Path(os.environ.get("ASSISTANT_DATA_DIR", "var")) / "screenshots"


@pytest.fixture
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail("Debian's chromium is required for browser tests: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


def sign_in(page, server: str, username: str, *, path: str = "/") -> None:
    """Open `path` as a signed-out user and sign in through the real login form."""
    page.goto(f"{server}{path}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def session_of(user) -> str:
    """A signed-in session cookie for `user` (made before the browser starts: the ORM is
    not called once Playwright's loop runs)."""
    from django.conf import settings
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def signed_in(browser, server: str, session: str):
    """A new page of its own browser context, signed in with `session`."""
    from django.conf import settings

    context = browser.new_context(viewport={"width": 1200, "height": 800})
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": server}])
    return context.new_page()


@pytest.fixture
def syncs_in_threads():
    """Each queued connector sync runs after commit in its own thread, through the service
    a worker runs (the Celery path has its own tests in tests/connectors/)."""
    threads: list[threading.Thread] = []

    def run(connection_id: int) -> None:
        try:
            connection_sync_run(connection_id=connection_id)
        finally:
            db_connection.close()

    def enqueue(*, connection) -> None:
        def start() -> None:
            thread = threading.Thread(target=run, args=(connection.pk,), daemon=True)
            threads.append(thread)
            thread.start()

        transaction.on_commit(start)

    previous = hooks._enqueue
    hooks.sync_enqueue_register(enqueue)
    yield threads
    for thread in threads:
        thread.join(30)
    hooks._enqueue = previous
