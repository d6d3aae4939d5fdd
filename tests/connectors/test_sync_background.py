"""Connector syncs as background runs, without a worker: enqueue after commit (one per
connection), the atomic claim, retries, pauses, the sweep, and a sync cut off half-way."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.syncs import (
    connection_claim,
    connection_sync_enqueue,
    connection_sync_run,
    connection_sync_status,
    connections_due,
    connections_sweep,
)
from assistant.background.tasks import connection_sync, sync_countdown
from assistant.background.views import pipeline_context
from connectors import hooks
from connectors.models import CalendarResource, Connection, Event, Source
from tests.connectors.scripted_kind import ics, scripted_connection, scripted_kind_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def two_calendars(kind) -> None:
    kind.script.calendars = {"work": "Work", "home": "Home"}
    kind.script.objects = {
        "work": {"w1.ics": ics("w1", "Standup"), "w2.ics": ics("w2", "Review", days_from_now=2)},
        "home": {"h1.ics": ics("h1", "Dentist", days_from_now=3)},
    }


def enqueue(connection, capture) -> TaskRun:
    with capture() as callbacks:
        run = connection_sync_enqueue(connection=connection)
    assert len(callbacks) == 1
    return run


def test_enqueue_sends_after_commit_once_per_connection(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    with django_capture_on_commit_callbacks() as callbacks:
        first = connection_sync_enqueue(connection=connection)
        second = connection_sync_enqueue(connection=connection)
        hooks.sync_enqueue(connection=connection)  # the registered hook is this function
    assert len(callbacks) == 1  # nothing reaches the broker before the commit, and only once
    assert first == second and TaskRun.objects.count() == 1
    assert (first.kind, first.state, first.connection_id) == ("sync", "queued", connection.pk)
    assert first.target_label == f"sync of {connection.label}"


def test_a_sync_run_applies_events_and_records_the_run(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)

    result = connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert result.successful()
    run.refresh_from_db()
    assert (run.state, run.progress_done, run.progress_total) == ("succeeded", 2, 2)
    assert run.detail == "2 calendars synced: 3 added, 0 changed, 0 removed."
    assert Event.objects.owned_by(owner).count() == 3
    connection.refresh_from_db()
    assert connection.last_sync_at and connection.last_sync_summary == run.detail
    assert connection.sync_claimed_until is None and connection.sync_claimed_by == ""
    status = connection_sync_status(connection=connection)
    assert not status.pending and status.last_state == "succeeded"


def test_the_page_sees_live_progress_while_a_sync_runs(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)
    assert connection_sync_status(connection=connection).line.startswith("Waiting for a worker")
    seen = []
    scripted_kind.during_sync = lambda remote_id: seen.append(
        connection_sync_status(connection=connection)
    )

    connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert [(s.running, s.done, s.total) for s in seen] == [(True, 0, 2), (True, 1, 2)]
    assert seen[1].line == "Syncing: 1 of 2 calendars done…"


def test_two_claims_at_once_one_wins(owner, scripted_kind, transactional_db):
    connection = scripted_connection(owner, scripted_kind)
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def claim(token: str) -> None:
        try:
            barrier.wait()
            results.append(connection_claim(connection_id=connection.pk, token=token))
        finally:
            db_connection.close()

    threads = [threading.Thread(target=claim, args=(f"task-{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(results) == [False, True]


def test_a_claim_is_retaken_by_its_own_task_and_after_it_expires(owner, scripted_kind, settings):
    settings.CONNECTOR_SYNC_CLAIM_TTL_S = 60
    connection = scripted_connection(owner, scripted_kind)
    now = timezone.now()
    assert connection_claim(connection_id=connection.pk, token="a", now=now)
    assert not connection_claim(connection_id=connection.pk, token="b", now=now)
    assert connection_claim(connection_id=connection.pk, token="a", now=now)  # redelivered
    later = now + timedelta(seconds=61)
    assert connection_claim(connection_id=connection.pk, token="b", now=later)


def test_a_sync_that_finds_the_connection_claimed_is_skipped(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)
    assert connection_claim(connection_id=connection.pk, token="another-worker")
    connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)
    run.refresh_from_db()
    assert run.state == "skipped" and "Another sync" in run.detail
    assert scripted_kind.script.calls == ["connect"]  # the server was never asked


def test_transient_errors_retry_with_backoff_then_succeed(
    owner, scripted_kind, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_SYNC_MAX_RETRIES = 3
    two_calendars(scripted_kind)
    busy = {"message": "The server is busy (HTTP 503).", "status": 503}
    scripted_kind.script.errors = [busy, busy]
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)

    result = connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert result.successful()  # eager: the two retries ran inline
    run.refresh_from_db()
    assert run.state == "succeeded" and run.attempts == 3
    connection.refresh_from_db()
    assert connection.status == "active" and connection.last_error == ""
    assert Event.objects.owned_by(owner).count() == 3
    settings.CONNECTOR_SYNC_RETRY_BACKOFF_S = 30
    assert [sync_countdown(n) for n in range(5)] == [30, 60, 120, 240, 480]


def test_transient_errors_give_up_after_the_last_retry_but_stay_active(
    owner, scripted_kind, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_SYNC_MAX_RETRIES = 1
    busy = {"message": "The server is busy (HTTP 503).", "url": "https://cal.example.org/"}
    scripted_kind.script.errors = [busy, busy, busy]
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)

    result = connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    assert result.failed()
    run.refresh_from_db()
    assert run.state == "failed" and run.attempts == 2 and "busy" in run.error
    connection.refresh_from_db()
    assert connection.status == "active"  # the sweep tries again at the next interval
    assert connection.last_error == "The server is busy (HTTP 503). (https://cal.example.org/)"
    assert "next scheduled sync" in connection.last_error_hint
    assert connection.sync_claimed_until is None


def test_a_permanent_error_pauses_the_connection(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    scripted_kind.script.errors = [
        {"permanent": True, "message": "The server refused the password (HTTP 401).",
         "hint": "Reconnect with the new password.", "status": 401}
    ]  # fmt: skip
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)

    connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    run.refresh_from_db()
    assert run.state == "failed" and run.attempts == 1  # not retried
    assert "refused the password" in run.error and "Reconnect" in run.error
    connection.refresh_from_db()
    assert connection.is_paused and "refused the password" in connection.paused_reason
    assert connection.last_error_hint == "Reconnect with the new password."
    with django_capture_on_commit_callbacks() as callbacks:
        assert connection_sync_enqueue(connection=connection) is None
    assert callbacks == [] and connection not in connections_due()


def test_the_sweep_enqueues_only_due_connections(
    owner, outsider, scripted_kind, settings, django_capture_on_commit_callbacks
):
    settings.CONNECTOR_SYNC_INTERVAL_MINUTES = 15
    now = timezone.now()
    old = now - timedelta(minutes=20)
    never = scripted_connection(owner, scripted_kind)
    stale = scripted_connection(outsider, scripted_kind)
    Connection.objects.filter(pk=stale.pk).update(last_sync_at=old)
    fresh = scripted_connection(owner, scripted_kind)
    Connection.objects.filter(pk=fresh.pk).update(last_sync_at=now - timedelta(minutes=5))
    failed_recently = scripted_connection(owner, scripted_kind)
    Connection.objects.filter(pk=failed_recently.pk).update(last_sync_at=old, last_error_at=now)
    paused = scripted_connection(owner, scripted_kind)
    Connection.objects.filter(pk=paused.pk).update(status="paused")
    claimed = scripted_connection(owner, scripted_kind)
    connection_claim(connection_id=claimed.pk, token="busy")
    waiting = scripted_connection(owner, scripted_kind)
    enqueue(waiting, django_capture_on_commit_callbacks)

    assert {c.pk for c in connections_due(now=now)} == {never.pk, stale.pk}
    with django_capture_on_commit_callbacks() as callbacks:
        report = connections_sweep(now=now)
        again = connections_sweep(now=now)  # the runs now waiting hold them back
    assert (report.enqueued, again.enqueued, len(callbacks)) == (2, 0, 2)
    runs = TaskRun.objects.filter(kind="sync", state="queued")
    assert set(runs.values_list("connection_id", flat=True)) == {never.pk, stale.pk, waiting.pk}
    assert runs.get(connection=stale).owner == outsider


class WorkerDied(BaseException):
    """What a killed worker looks like from inside: nothing after it runs normally."""


def test_a_sync_cut_off_half_way_keeps_what_finished_and_the_next_run_redoes_the_rest(
    owner, scripted_kind
):
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    work, home = Source.objects.get(remote_id="work"), Source.objects.get(remote_id="home")

    def die_on_work(remote_id: str) -> None:  # sources go by name: Home, then Work
        if remote_id == "work":
            raise WorkerDied

    scripted_kind.during_sync = die_on_work
    with pytest.raises(WorkerDied):
        connection_sync.apply(args=(connection.pk,), task_id=str(uuid.uuid4()), throw=True)

    work.refresh_from_db()
    home.refresh_from_db()
    assert home.state == {"version": 1} and work.state == {}  # the finished source stays
    assert set(Event.objects.values_list("uid", flat=True)) == {"h1"}
    connection.refresh_from_db()
    assert connection.last_sync_at is None  # the sync as a whole did not finish

    scripted_kind.during_sync = None
    connection_sync.apply(args=(connection.pk,), task_id=str(uuid.uuid4()))

    work.refresh_from_db()
    assert work.state == {"version": 1}
    assert sorted(Event.objects.values_list("uid", flat=True)) == ["h1", "w1", "w2"]
    assert CalendarResource.objects.count() == 3  # nothing twice


def test_a_source_whose_apply_fails_half_way_keeps_its_previous_state(owner, scripted_kind):
    two_calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    connection_sync.apply(args=(connection.pk,))
    work = Source.objects.get(remote_id="work")
    standup = Event.objects.get(uid="w1")
    # Next time: one change, then an object PostgreSQL refuses (a NUL byte) in the same source.
    scripted_kind.script.objects["work"] = {
        "w1.ics": ics("w1", "Standup moved"),
        "w3.ics": ics("w3", "Broken\x00title"),
    }
    result = connection_sync.apply(args=(connection.pk,), task_id=str(uuid.uuid4()))

    assert result.failed()
    work.refresh_from_db()
    assert work.state == {"version": 1}  # not advanced: the next run redoes this source
    standup.refresh_from_db()
    assert standup.title == "Standup"  # the change in the same transaction was rolled back
    assert set(Event.objects.filter(source=work).values_list("uid", flat=True)) == {"w1", "w2"}
    connection.refresh_from_db()
    assert connection.sync_claimed_until is None  # an unexpected error frees the claim too


def test_a_task_for_a_removed_connection_exits_quietly(owner):
    run_id = str(uuid.uuid4())
    result = connection_sync.apply(args=(987654,), task_id=run_id)
    assert result.successful() and result.result["state"] == "skipped"


def test_the_memory_page_does_not_list_sync_runs(
    owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    run = enqueue(connection, django_capture_on_commit_callbacks)
    connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)
    context = pipeline_context(user=owner)
    assert context["pipeline_pending"] == [] and context["pipeline_recent"] == []


def test_credentials_no_key_can_read_pause_the_connection(owner, scripted_kind):
    connection = scripted_connection(owner, scripted_kind)
    Connection.objects.filter(pk=connection.pk).update(secrets_encrypted="not-a-fernet-token")
    result = connection_sync.apply(args=(connection.pk,))
    assert result.successful() and result.result["state"] == "failed"
    connection.refresh_from_db()
    assert connection.is_paused and "cannot be decrypted" in connection.last_error
    assert connection.last_error_hint == "Reconnect it: enter the credentials again."


def test_a_sync_run_outside_celery_finishes_its_own_run(owner, scripted_kind):
    connection = scripted_connection(owner, scripted_kind)
    outcome = connection_sync_run(connection_id=connection.pk)
    run = TaskRun.objects.get(connection=connection)
    assert run.state == "succeeded" and run.detail == outcome.detail and run.finished_at
    assert not connection_sync_status(connection=connection).pending


def test_a_sync_redelivered_too_often_stops_on_record(owner, scripted_kind, settings):
    settings.CONNECTOR_SYNC_MAX_RETRIES = 1
    connection = scripted_connection(owner, scripted_kind)
    task_id = str(uuid.uuid4())
    TaskRun.objects.create(owner=owner, kind="sync", target_label="x", connection=connection,
                           celery_task_id=task_id, attempts=3)  # fmt: skip
    connection_claim(connection_id=connection.pk, token=task_id)  # held by the lost runs

    result = connection_sync.apply(args=(connection.pk,), task_id=task_id)

    assert result.failed()
    run = TaskRun.objects.get(celery_task_id=task_id)
    assert run.state == "failed" and run.error.startswith("Gave up after 3 attempts")
    connection.refresh_from_db()
    assert connection.last_error.startswith("Gave up") and connection.sync_claimed_until is None
    assert connection.status == "active" and scripted_kind.script.calls == ["connect"]
