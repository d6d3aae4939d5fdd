"""Connector syncs on a real Celery worker against real Redis and PostgreSQL: the beat
sweep syncs a due connection end to end, and a worker killed in the middle of a sync
leaves only whole calendars behind; the redelivered task finishes the rest, once."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create
from assistant.background.tasks import connection_sync, connections_sweep
from connectors.models import CalendarResource, Connection, Event, Source
from connectors.registry import kinds
from tests.connectors.scripted_kind import SLUG, Script, ScriptedKind, ics, scripted_connection
from tests.pipeline.test_worker import VISIBILITY_TIMEOUT_S, send, unacked_older_than
from tests.pipeline.worker import CeleryWorker, RedisServer, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(150)]


@pytest.fixture(scope="module")
def redis_server():
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    redis_server.flush()
    return redis_server.url


@pytest.fixture
def script_file(tmp_path):
    """The scripted server, shared by this process and the workers through a JSON file."""
    path = tmp_path / "script.json"
    Script(
        calendars={"work": "Work", "home": "Home"},
        objects={
            "work": {"w1.ics": ics("w1", "Standup"), "w2.ics": ics("w2", "Review")},
            "home": {"h1.ics": ics("h1", "Dentist")},
        },
    ).save(path)
    registered = kinds()
    registered[SLUG] = ScriptedKind(script_file=path)
    yield path
    registered.pop(SLUG, None)


@pytest.fixture
def workers(broker, script_file, tmp_path):
    started: list[CeleryWorker] = []

    def start() -> CeleryWorker:
        worker = CeleryWorker(
            broker_url=broker,
            model_url="http://127.0.0.1:9/v1",  # a sync asks no model
            data_dir=tmp_path,
            app="tests.connectors.scripted_celery",
            SCRIPTED_KIND_FILE=str(script_file),
            # The worker's data directory is new: it must read the secrets this process wrote.
            CONNECTOR_ENCRYPTION_KEYS=",".join(settings.CONNECTOR_ENCRYPTION_KEYS),
            CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S),
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def test_the_sweep_syncs_a_due_connection_on_a_real_worker(owner, broker, workers):
    connection = scripted_connection(owner, kinds()[SLUG])
    worker = workers()

    send(connections_sweep, broker)  # what beat sends every minute

    run = wait_for(
        lambda: TaskRun.objects.filter(connection=connection, state="succeeded").first(),
        timeout=60, what="the sync run", log=worker.log,
    )  # fmt: skip
    assert run.kind == "sync" and run.owner == owner and run.attempts == 1
    assert run.detail == "2 calendars synced: 3 added, 0 changed, 0 removed."
    assert sorted(Event.objects.owned_by(owner).values_list("title", flat=True)) == [
        "Dentist", "Review", "Standup"
    ]  # fmt: skip
    connection.refresh_from_db()
    assert connection.last_sync_at and connection.sync_claimed_until is None


def test_a_worker_killed_mid_sync_leaves_whole_calendars_and_the_redelivery_finishes(
    owner, broker, workers, script_file, tmp_path
):
    release = tmp_path / "release"
    script = Script.load(script_file)
    script.hold, script.release_file = "work", str(release)  # Home syncs, then Work hangs
    script.save(script_file)
    connection = scripted_connection(owner, kinds()[SLUG])
    task_id = str(uuid.uuid4())
    task_run_create(owner=owner, kind="sync", target_label="sync", connection_id=connection.pk,
                    celery_task_id=task_id)  # fmt: skip
    first = workers()

    send(connection_sync, broker, connection.pk, task_id=task_id)
    wait_for(lambda: "sync:work" in Script.load(script_file).calls, timeout=60,
             what="the sync of Work", log=first.log)  # fmt: skip
    first.kill()  # mid-sync: Home is applied, Work's changes were never written

    home, work = Source.objects.get(remote_id="home"), Source.objects.get(remote_id="work")
    assert home.state == {"version": 1} and work.state == {}
    assert list(Event.objects.values_list("uid", flat=True)) == ["h1"]
    connection.refresh_from_db()
    assert connection.sync_claimed_by == task_id and connection.last_sync_at is None
    run = TaskRun.objects.get(celery_task_id=task_id)
    assert (run.state, run.progress_done, run.progress_total) == ("running", 1, 2)

    release.touch()
    wait_for(lambda: unacked_older_than(broker, VISIBILITY_TIMEOUT_S), timeout=60,
             what="the unacked task to pass the visibility timeout")  # fmt: skip
    second = workers()

    run = wait_for(
        lambda: TaskRun.objects.filter(celery_task_id=task_id, state="succeeded").first(),
        timeout=60, what="the redelivered sync", log=second.log,
    )  # fmt: skip
    assert run.attempts == 2  # the same task took its own claim back at once
    assert sorted(Event.objects.values_list("uid", flat=True)) == ["h1", "w1", "w2"]
    assert CalendarResource.objects.count() == 3
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.sync_claimed_until is None and connection.last_sync_at is not None
