"""On real Celery workers against real Redis and PostgreSQL: two enqueues that arrive
while a worker syncs (after it read the calendar that then changes) bring exactly one
follow-up sync, queued by that worker when it ends, which reads the change."""

from __future__ import annotations

import time
import uuid

import pytest

from assistant.background.claims import AGAIN_KEY
from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create
from assistant.background.syncs import connection_sync_enqueue
from assistant.background.tasks import connection_sync
from connectors.models import Connection, Event
from connectors.registry import kinds
from tests.connectors import test_sync_background_worker as on_workers
from tests.connectors.scripted_kind import SLUG, Script, ics, scripted_connection
from tests.pipeline.test_worker import send
from tests.pipeline.worker import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(150)]

# That module's fixtures: its Redis, a worker starter, and the script the workers read.
redis_server, broker = on_workers.redis_server, on_workers.broker
script_file, workers = on_workers.script_file, on_workers.workers


def test_enqueues_during_a_sync_on_a_real_worker_bring_one_follow_up(
    owner, broker, workers, script_file, tmp_path
):
    release = tmp_path / "release"
    script = Script.load(script_file)
    script.hold, script.release_file = "work", str(release)  # Home syncs, then Work waits
    script.save(script_file)
    connection = scripted_connection(owner, kinds()[SLUG])
    task_id = str(uuid.uuid4())
    first = task_run_create(owner=owner, kind="sync", target_label="sync",
                            connection_id=connection.pk, celery_task_id=task_id)  # fmt: skip
    worker = workers()

    send(connection_sync, broker, connection.pk, task_id=task_id)
    wait_for(lambda: "sync:work" in Script.load(script_file).calls, timeout=60,
             what="the sync of Work", log=worker.log)  # fmt: skip
    # Home is read already: a new event there, and two enqueues (an upload, a click).
    script = Script.load(script_file)
    script.objects["home"]["h2.ics"] = ics("h2", "Dentist again")
    script.save(script_file)
    assert connection_sync_enqueue(connection=connection) == first
    assert connection_sync_enqueue(connection=connection) == first
    assert TaskRun.objects.filter(connection=connection).count() == 1
    release.touch()

    follow_up = wait_for(
        lambda: TaskRun.objects.filter(connection=connection, state="succeeded")
        .exclude(celery_task_id=task_id).first(),
        timeout=60, what="the follow-up sync", log=worker.log,
    )  # fmt: skip
    assert TaskRun.objects.get(celery_task_id=task_id).state == "succeeded"
    assert sorted(Event.objects.values_list("uid", flat=True)) == ["h1", "h2", "w1", "w2"]
    time.sleep(2)  # a third run would have been queued by now: the follow-up's end
    assert TaskRun.objects.filter(connection=connection).count() == 2
    assert (
        follow_up.finished_at and AGAIN_KEY not in Connection.objects.get(pk=connection.pk).config
    )
