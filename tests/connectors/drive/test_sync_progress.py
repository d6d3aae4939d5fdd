"""A drive sync's live progress against WsgiDAV and the real embedder: the counts it
carries to its task run (few writes), the connections pages showing them while it runs
and the summary after, and `manage.py connector_sync`'s bar saying the same."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assistant.background import syncs
from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create, task_run_progress
from assistant.background.syncs import connection_sync_run, connection_sync_status
from connectors.documents.models import DocumentChunk
from connectors.services.progress import SyncProgress
from tests.connectors.drive.conftest import connect

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def awkward_library(dav, settings) -> None:
    settings.DOCUMENT_MAX_BYTES = 64 * 1024
    dav.write("Notes/garden.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May.")
    dav.write("Notes/readme.md", "# Readme\n\nThe wifi password is on the fridge.")
    dav.write("Other/big.txt", "word " * 20_000)  # over the limit: refused by its size
    dav.write("Other/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)


def sync_run(connection) -> tuple[TaskRun, list[SyncProgress]]:
    heard: list[SyncProgress] = []
    connection_sync_run(connection_id=connection.pk, watch=heard.append)
    runs = TaskRun.objects.filter(connection_id=connection.pk, kind=TaskRun.Kind.SYNC)
    return runs.latest("id"), heard


def test_the_run_keeps_the_counts_with_skip_reasons(owner, dav, settings):
    awkward_library(dav, settings)
    connection = connect(owner, dav)
    run, heard = sync_run(connection)
    final = SyncProgress.from_dict(run.progress_detail)
    chunks = DocumentChunk.objects.owned_by(owner).count()
    assert final is not None and final.stage == "finished"
    assert (final.seen, final.total, final.done) == (4, 4, 4)
    assert (final.indexed, final.skipped, final.failed, final.unchanged) == (2, 2, 0, 0)
    assert final.skip_reasons == {"too_large": 1, "unsupported_type": 1}
    assert final.chunks_embedded == chunks > 0
    assert (run.progress_done, run.progress_total) == (4, 4)
    # The bytes to read, as listed: not the too-large file's (refused without a download).
    readable = ("Notes/garden.txt", "Notes/readme.md", "Other/photo.png")
    assert (
        final.bytes_total == final.bytes_done == sum(dav.path(p).stat().st_size for p in readable)
    )
    # The watcher heard every step, in order, counting up.
    assert [p.stage for p in heard][:2] == ["listing", "reading"] and heard[-1] == final
    assert [p.done for p in heard] == sorted(p.done for p in heard)
    connection.refresh_from_db()
    assert connection.last_sync_summary == (
        "1 folder synced, 4 files: 2 indexed, 0 unchanged, 0 moved, 0 removed, 2 skipped "
        f"(1 too large, 1 unsupported type); {chunks} passages embedded."
    )

    again, _ = sync_run(connection)  # the second run: a new row, only listings
    final = SyncProgress.from_dict(again.progress_detail)
    assert (final.seen, final.total, final.unchanged, final.chunks_embedded) == (4, 0, 4, 0)


def test_progress_reaches_the_database_at_most_once_a_second(owner, dav, monkeypatch):
    monkeypatch.setattr(syncs, "PROGRESS_WRITE_EVERY_S", 3600)  # no second passes, here
    for number in range(12):
        dav.write(f"note{number:02}.txt", f"Note {number}: the harvest is in week {number}.")
    connection = connect(owner, dav)
    with CaptureQueriesContext(db_connection) as queries:
        run, heard = sync_run(connection)
    writes = [
        q["sql"] for q in queries if "progress_detail" in q["sql"] and q["sql"].startswith("UPDATE")
    ]
    assert len(heard) == 16  # listing, start of reading, each file, the batch, the end
    # Only the first of each stage (listing, reading, finished) and the last file.
    assert len(writes) == 4
    assert SyncProgress.from_dict(run.progress_detail).indexed == 12


def running_drive(owner, dav, counts: SyncProgress):
    """A drive connection whose sync a worker is running, got as far as `counts`."""
    connection = connect(owner, dav)
    run = task_run_create(
        owner=owner, kind=TaskRun.Kind.SYNC, target_label="sync", connection_id=connection.pk,
        celery_task_id="task-1", state=TaskRun.State.RUNNING,
    )  # fmt: skip
    task_run_progress(run=run, done=counts.done, total=counts.total, detail=counts.as_dict())
    return connection, run


MIDWAY = SyncProgress(
    stage="reading", seen=1_000, total=1_000, done=412, indexed=380, skipped=12,
    skip_reasons={"too_large": 12}, chunks_embedded=4_210, eta_s=125,
)  # fmt: skip
MIDWAY_LINE = (
    "Syncing: 412 of 1,000 files read · 380 indexed · 12 skipped (12 too large) · "
    "4,210 passages embedded · about 2 min left"
)


def test_the_status_endpoint_shows_the_running_sync(owner_client, owner, dav):
    connection, run = running_drive(owner, dav, MIDWAY)
    assert connection_sync_status(connection=connection).line == MIDWAY_LINE
    status = reverse("connectors:status", args=[connection.pk])

    live = owner_client.get(status, **HX)
    body = live.content.decode()
    assert live.status_code == 200 and 'hx-trigger="every 2s"' in body
    assert MIDWAY_LINE in body and '<progress max="1000" value="412"' in body
    assert "Syncing</span>" in body  # the badge

    card = owner_client.get(f"{status}?card=1", **HX)
    body = card.content.decode()
    assert card.status_code == 200 and f'id="connection-{connection.pk}"' in body
    assert MIDWAY_LINE in body and f'{status}?card=1" hx-trigger="every 2s"' in body
    page = owner_client.get(reverse("connectors:index")).content.decode()
    assert MIDWAY_LINE in page and f"{status}?card=1" in page

    # Too early for a pace: it says so rather than guessing.
    early = SyncProgress(stage="reading", seen=9, total=9, done=1, indexed=1, chunks_embedded=3)
    task_run_progress(run=run, done=1, total=9, detail=early.as_dict())
    body = owner_client.get(f"{status}?card=1", **HX).content.decode()
    assert "1 of 9 files read · 1 indexed · 3 passages embedded · estimating time left…" in body

    # Listed, nothing counted yet (the run has begun; the worker is asking the server).
    task_run_progress(run=run, done=0, total=0, detail=SyncProgress().as_dict())
    body = owner_client.get(status, **HX).content.decode()
    assert "Syncing: looking for changes…" in body and "<progress" not in body


def test_when_the_sync_ends_the_pollers_stop_and_the_summary_stays(
    owner_client, owner, dav, settings
):
    awkward_library(dav, settings)
    connection = connect(owner, dav)
    status = reverse("connectors:status", args=[connection.pk])
    sync_run(connection)
    card = owner_client.get(f"{status}?card=1", **HX)
    body = card.content.decode()
    assert card.status_code == 286 and "every 2s" not in body and "Syncing" not in body
    assert "Last sync: 1 folder synced, 4 files: 2 indexed" in body
    assert "2 skipped (1 too large, 1 unsupported type)" in body
    detail = owner_client.get(status, **HX)
    assert detail.status_code == 286
    assert "2 skipped (1 too large, 1 unsupported type)" in detail.content.decode()


def test_another_users_card_is_not_found(outsider_client, owner, dav):
    connection, _ = running_drive(owner, dav, MIDWAY)
    status = reverse("connectors:status", args=[connection.pk])
    assert outsider_client.get(f"{status}?card=1", **HX).status_code == 404


def test_the_page_line_follows_a_real_sync(owner, dav, settings, monkeypatch):
    monkeypatch.setattr(syncs, "PROGRESS_WRITE_EVERY_S", 0)  # every step written
    awkward_library(dav, settings)
    connection = connect(owner, dav)
    lines: list[str] = []
    connection_sync_run(
        connection_id=connection.pk,
        watch=lambda _: lines.append(connection_sync_status(connection=connection).line),
    )
    assert lines[0] == "Syncing: looking for changes…"
    assert lines[1].startswith("Syncing: 0 of 4 files read · 0 indexed · 0 passages embedded")
    assert any(" · 1 skipped (1 too large) · " in line for line in lines)
    assert lines[-1].startswith("Syncing: 4 of 4 files read · 2 indexed · 2 skipped")
    assert "left" not in lines[-1]


def test_the_command_bar_shows_the_counts(owner, dav, settings):
    awkward_library(dav, settings)
    connection = connect(owner, dav)
    out, err = StringIO(), StringIO()
    call_command("connector_sync", str(connection.pk), stdout=out, stderr=err)
    bar = err.getvalue()
    assert "looking for changes…" in bar
    last = bar.replace("\r", "\n").strip().splitlines()[-1]
    assert "100%" in last and "4/4 files read · 2 indexed · 2 skipped (1 too large" in last
    assert "passages embedded" in last
    assert "2 skipped (1 too large, 1 unsupported type)" in out.getvalue()
