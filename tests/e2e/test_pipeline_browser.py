"""Background work seen from the memory page in Chromium: the live status polls while a
summary is pending, then stops by itself and brings in what the run proposed."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create
from memory.services import memory_create
from tests.e2e.conftest import PASSWORD
from tests.e2e.test_memory_browser import sign_in
from tests.factories import user_create

pytestmark = pytest.mark.e2e


@pytest.fixture
def waiting_run(transactional_db):
    user = user_create("olivia", password=PASSWORD)
    return task_run_create(owner=user, kind="summarise", target_label="conversation 7: Tiles")


def finish_in_another_thread(run: TaskRun) -> None:
    """What the worker does, done from a thread without Playwright's event loop (Django
    refuses ORM calls on a thread that runs one)."""

    def work() -> None:
        memory_create(owner=run.owner, text="Olivia chose green zellige tiles.", kind="plan",
                      source="extracted", actor="assistant", status="proposed")  # fmt: skip
        TaskRun.objects.filter(pk=run.pk).update(
            state="succeeded", finished_at=timezone.now(), memories_added=1,
            detail="Summarised messages 1 to 4 (4); 1 new memories (for review).",
        )  # fmt: skip
        connection.close()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)


def test_status_polls_then_stops_and_the_inbox_fills(waiting_run, asgi_server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    polls: list[str] = []
    page.on("request", lambda request: "/memory/background" in request.url and polls.append(1))
    sign_in(page, asgi_server, "olivia")
    status = page.locator("#pipeline-status")
    status.filter(has_text="Waiting to summarise 1 conversation…").wait_for()
    assert page.locator("#inbox").is_hidden()

    finish_in_another_thread(waiting_run)

    status.filter(has_text="Recent background work").wait_for(timeout=10_000)
    page.locator("#inbox").filter(has_text="green zellige").wait_for(timeout=10_000)
    assert "Summarising" not in status.inner_text()
    seen = len(polls)
    page.wait_for_timeout(4500)  # two more poll intervals
    assert len(polls) == seen, "the poller should have stopped"
