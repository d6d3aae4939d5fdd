"""A change queued while a sync runs (an upload, a re-index, "sync now") is not left for
the next scheduled sync: the running sync, asked through its claim, queues exactly one
follow-up when it succeeds. A queued sync lists everything anyway (no follow-up), and a
failed one starts none (a transient error's retry lists again)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection as db_connection
from django.urls import reverse
from django.utils import timezone

from assistant.background.claims import AGAIN_KEY, claim_ttl, sync_again_ask
from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create, task_run_started
from assistant.background.syncs import (
    connection_claim,
    connection_sync_enqueue,
    connection_sync_run,
    connection_sync_status,
)
from assistant.background.tasks import connection_sync
from connectors.documents.models import Document
from connectors.models import Connection, Event
from connectors.uploads.services import upload_add, uploads_connection_get_or_create
from tests.connectors.scripted_kind import ics, scripted_connection, scripted_kind_fixture  # noqa: F401
from tests.connectors.test_sync_background import enqueue, two_calendars

pytestmark = pytest.mark.django_db


def runs_of(connection) -> list[TaskRun]:
    return list(TaskRun.objects.filter(connection=connection).order_by("created_at", "id"))


def asked(connection) -> bool:
    return AGAIN_KEY in Connection.objects.get(pk=connection.pk).config


def add_file(connection, name: str, body: bytes) -> None:
    outcome = upload_add(connection=connection, name=name, blocks=[body], size=len(body))
    assert outcome.added, outcome.message


def test_a_file_uploaded_during_a_sync_is_read_by_one_follow_up(
    owner, owner_client, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    connection = uploads_connection_get_or_create(owner=owner)
    add_file(connection, "tomatoes.txt", b"Tomatoes need six hours of sun.")
    uploaded: list[int] = []

    def upload_after_listing(progress) -> None:
        # The folder is listed: this file comes too late for this sync.
        if progress.stage != "listing" and not uploaded:
            basil = SimpleUploadedFile("basil.txt", b"Basil goes out in May.", "text/plain")
            response = owner_client.post(reverse("connectors:uploads-add"), {"files": [basil]})
            uploaded.append(response.status_code)

    with django_capture_on_commit_callbacks() as sent:
        first = connection_sync_run(connection_id=connection.pk, watch=upload_after_listing)

    assert first.state == "succeeded" and uploaded == [302]
    assert len(sent) == 1  # the follow-up's task, sent once the first run's end commits
    done, follow_up = runs_of(connection)
    assert (done.state, follow_up.state) == ("succeeded", "queued")
    indexed = Document.objects.filter(connection=connection, status=Document.Status.INDEXED)
    assert list(indexed.values_list("path", flat=True)) == ["tomatoes.txt"]
    assert not asked(connection)
    status = connection_sync_status(connection=connection)  # the page keeps "indexing…"
    assert status.pending and status.line.startswith("Waiting for a worker")

    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=follow_up.celery_task_id)

    follow_up.refresh_from_db()
    assert follow_up.state == "succeeded"
    assert sorted(indexed.values_list("path", flat=True)) == ["basil.txt", "tomatoes.txt"]
    assert sent == [] and len(runs_of(connection)) == 2  # nobody asked again: it ends there


def test_two_enqueues_during_one_sync_make_one_follow_up(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)
    returned: list[TaskRun | None] = []

    def change_home_while_work_syncs(remote_id: str) -> None:  # Home syncs first, then Work
        if remote_id == "work":
            scripted_kind.script.objects["home"]["h2.ics"] = ics(
                "h2", "Dentist again", days_from_now=4
            )
            returned.append(connection_sync_enqueue(connection=connection))
            returned.append(connection_sync_enqueue(connection=connection))

    scripted_kind.during_sync = change_home_while_work_syncs
    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert returned == [run, run]  # the running run: nothing new while it runs
    assert len(sent) == 1
    first, follow_up = runs_of(connection)
    assert (first.state, follow_up.state) == ("succeeded", "queued")
    assert "h2" not in set(Event.objects.values_list("uid", flat=True))

    scripted_kind.during_sync = None
    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=follow_up.celery_task_id)

    assert sent == [] and len(runs_of(connection)) == 2
    assert sorted(Event.objects.values_list("uid", flat=True)) == ["h1", "h2", "w1", "w2"]


def test_an_enqueue_while_a_sync_is_only_queued_adds_no_run(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as sent:
        assert connection_sync_enqueue(connection=connection) == run
        # Started on a worker but not yet claimed: it has yet to list, nothing is asked.
        task_run_started(celery_task_id=run.celery_task_id)
        assert connection_sync_enqueue(connection=connection) == run
    assert sent == [] and not asked(connection)

    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert sent == [] and [r.state for r in runs_of(connection)] == ["succeeded"]


def test_a_sync_that_finds_another_running_asks_it_for_one_more(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    """A queued task that a worker starts while another sync holds the claim (the
    foreground command's, say) is skipped, and the holder syncs again for it."""
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    late_task = str(uuid.uuid4())

    def start_another(remote_id: str) -> None:
        if remote_id == "work":
            scripted_kind.during_sync = None
            task_run_create(owner=owner, kind="sync", target_label="sync",
                            connection_id=connection.pk, celery_task_id=late_task)  # fmt: skip
            connection_sync.apply(args=(connection.pk,), task_id=late_task)

    scripted_kind.during_sync = start_another
    with django_capture_on_commit_callbacks() as sent:
        outcome = connection_sync_run(connection_id=connection.pk)

    assert outcome.state == "succeeded" and len(sent) == 1
    holder, skipped, follow_up = runs_of(connection)
    assert skipped.celery_task_id == late_task and skipped.state == "skipped"
    assert skipped.detail.startswith("Another sync of this connection is running")
    assert (holder.state, follow_up.state) == ("succeeded", "queued")


def test_a_failed_sync_starts_no_follow_up(
    owner, scripted_kind, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_SYNC_MAX_RETRIES = 0
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    scripted_kind.during_sync = lambda remote_id: connection_sync_enqueue(connection=connection)

    busy = {"message": "The server is busy (HTTP 503).", "status": 503}
    scripted_kind.script.errors = [busy]
    run = enqueue(connection, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as sent:
        assert connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id).failed()
    assert sent == [] and not asked(connection)  # the sweep tries again at the interval

    refused = {"permanent": True, "message": "The server refused the password (HTTP 401)."}
    scripted_kind.script.errors = [refused]
    run = enqueue(connection, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)
    connection.refresh_from_db()
    assert connection.is_paused and sent == [] and not asked(connection)
    assert [r.state for r in runs_of(connection)] == ["failed", "failed"]


def test_a_transient_error_is_covered_by_its_retry(
    owner, scripted_kind, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_SYNC_MAX_RETRIES = 1
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    scripted_kind.script.errors = [{"message": "The server is busy (HTTP 503).", "status": 503}]
    calls: list[str] = []

    def enqueue_once(remote_id: str) -> None:
        if not calls:
            connection_sync_enqueue(connection=connection)
        calls.append(remote_id)

    scripted_kind.during_sync = enqueue_once
    run = enqueue(connection, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks() as sent:
        connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    run.refresh_from_db()
    assert run.state == "succeeded" and run.attempts == 2  # the retry listed everything
    assert sent == [] and len(runs_of(connection)) == 1 and not asked(connection)


def test_a_request_from_before_a_sync_claims_is_not_repeated(owner, scripted_kind):
    connection = scripted_connection(owner, scripted_kind)
    long_ago = timezone.now() - claim_ttl() - timedelta(seconds=5)
    assert connection_claim(connection_id=connection.pk, token="lost-worker", now=long_ago)
    assert sync_again_ask(connection_id=connection.pk, now=long_ago)  # then its worker died
    assert not sync_again_ask(connection_id=connection.pk)  # its claim has expired since

    outcome = connection_sync_run(connection_id=connection.pk)  # takes the expired claim

    assert outcome.state == "succeeded" and not asked(connection)
    assert len(runs_of(connection)) == 1


def test_enqueues_from_several_connections_at_once_make_one_follow_up(
    owner, scripted_kind, syncs, transactional_db
):
    """Four requests at once, each on its own database connection, while a sync holds
    the claim: the row lock and the conditional UPDATEs leave one follow-up."""
    connection = scripted_connection(owner, scripted_kind)
    listed, go_on = threading.Event(), threading.Event()

    def hold(remote_id: str) -> None:
        listed.set()
        assert go_on.wait(20)

    def in_thread(target) -> threading.Thread:
        def run() -> None:
            try:
                target()
            finally:
                db_connection.close()

        thread = threading.Thread(target=run)
        thread.start()
        return thread

    scripted_kind.during_sync = hold
    outcomes: list = []
    sync = in_thread(lambda: outcomes.append(connection_sync_run(connection_id=connection.pk)))
    assert listed.wait(20)
    barrier = threading.Barrier(4)

    def request() -> None:
        barrier.wait(10)
        outcomes.append(connection_sync_enqueue(connection=connection))

    requests = [in_thread(request) for _ in range(4)]
    for thread in requests:
        thread.join(20)
    assert asked(connection)
    go_on.set()
    sync.join(20)

    assert len(outcomes) == 5 and outcomes[-1].state == "succeeded"
    running = runs_of(connection)
    assert len(running) == 1 and all(o == running[0] for o in outcomes[:-1])
    assert syncs == [connection.pk]  # the follow-up, through the registered enqueue
    assert not asked(connection)
