"""A drive sync's live progress in Chromium: the connections list and the drive's page
show the counts and the time left while a worker runs it, the cards poll by themselves,
and when the run ends the poller swaps in the summary and stops. Screenshots go to the
data dir's screenshots/ folder."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection

from assistant.background.models import TaskRun
from assistant.background.runs import (
    RunOutcome,
    task_run_create,
    task_run_finished,
    task_run_progress,
)
from assistant.background.syncs import connection_sync_run
from connectors.services.progress import SyncProgress
from tests.connectors.drive.conftest import connect
from tests.connectors.drive.dav_server import dav_server
from tests.e2e.conftest import sign_in
from tests.factories import user_create

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

MIDWAY = SyncProgress(
    stage="reading", seen=1_000, total=1_000, done=412, indexed=380, skipped=12,
    skip_reasons={"too_large": 8, "unsupported_type": 4}, chunks_embedded=4_210, eta_s=125,
)  # fmt: skip


@pytest.fixture
def olivia(transactional_db):
    return user_create("olivia")


@pytest.fixture
def running(olivia, tmp_path, settings):
    """A drive a worker is syncing, 412 files in (made before the browser starts:
    Playwright's loop then keeps the ORM off this thread)."""
    settings.DOCUMENT_MAX_BYTES = 64 * 1024
    with dav_server(tmp_path / "files") as dav:
        dav.write("Notes/garden.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May.")
        dav.write("Other/big.txt", "word " * 20_000)
        dav.write("Other/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
        connection = connect(olivia, dav)
        run = task_run_create(
            owner=olivia, kind=TaskRun.Kind.SYNC, target_label="sync", state="running",
            connection_id=connection.pk, celery_task_id="worker-task",
        )  # fmt: skip
        task_run_progress(run=run, done=412, total=1_000, detail=MIDWAY.as_dict())
        yield connection, run


def in_thread(work) -> None:
    """ORM work while Playwright's loop runs on this thread."""

    def target():
        try:
            work()
        finally:
            db_connection.close()

    thread = threading.Thread(target=target)
    thread.start()
    thread.join(60)


def test_the_progress_is_live_then_the_summary_stays(running, asgi_server, browser, screenshot_dir):
    connection, run = running
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    sign_in(page, asgi_server, "olivia", path="/connections/")
    card = page.locator(f"#connection-{connection.pk}")
    line = (
        "412 of 1,000 files read · 380 indexed · 12 skipped (8 too large, 4 unsupported "
        "type) · 4,210 passages embedded · about 2 min left"
    )
    assert line in card.inner_text() and "Syncing" in card.inner_text()
    page.screenshot(path=screenshot_dir / "connections-syncing.png", full_page=True)
    page.goto(f"{asgi_server}/connections/{connection.pk}/")
    assert line in page.inner_text("#sync-status")
    page.screenshot(path=screenshot_dir / "drive-syncing.png", full_page=True)

    page.goto(f"{asgi_server}/connections/")

    def worker_finishes():
        task_run_finished(run=run, outcome=RunOutcome(detail="done"))
        connection_sync_run(connection_id=connection.pk)

    in_thread(worker_finishes)
    # The card's poller swaps in the finished card, then stops (HTTP 286).
    page.wait_for_selector(f"#connection-{connection.pk} .conn-summary", timeout=10_000)
    text = card.inner_text()
    assert "Last sync: 1 folder synced, 3 files: 1 indexed" in text
    assert "2 skipped (1 too large, 1 unsupported type)" in text and "Syncing" not in text
    assert card.get_attribute("hx-get") is None
    page.screenshot(path=screenshot_dir / "connections-synced.png", full_page=True)
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
