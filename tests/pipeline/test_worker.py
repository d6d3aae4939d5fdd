"""Real Celery workers against real Redis and PostgreSQL: an idle conversation is summarised
and mined, and a worker killed mid-task loses nothing and duplicates nothing."""

from __future__ import annotations

import time
import uuid

import pytest
import redis

from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create
from assistant.background.schedule import conversations_due
from assistant.background.tasks import conversation_summarise, conversations_sweep
from assistant.celery import app as celery_app
from memory.models import MemoryItem, SessionSummary
from memory.services.preferences import memory_settings_update
from tests.pipeline.conftest import KITCHEN, chat, memories_json, memory
from tests.pipeline.worker import CeleryWorker, RedisServer, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.timeout(120)]

VEGETARIAN = memory("The user is vegetarian.", message=3, quote="I'm vegetarian")
ZELLIGE = memory("The user chose green zellige tiles.", kind="plan", message=3)
VISIBILITY_TIMEOUT_S = 3


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
def workers(broker, model, tmp_path):
    """Start workers on demand; all of them are stopped before the test database goes."""
    started: list[CeleryWorker] = []

    def start(**settings) -> CeleryWorker:
        worker = CeleryWorker(
            broker_url=broker,
            model_url=model.server.base_url,
            data_dir=tmp_path,
            SUMMARY_IDLE_MINUTES="0",
            CELERY_VISIBILITY_TIMEOUT_S=str(VISIBILITY_TIMEOUT_S),
            **settings,
        )
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def send(task, broker: str, *args, task_id: str | None = None, **options) -> None:
    with celery_app.connection_for_write(broker) as connection:
        task.apply_async(args, task_id=task_id, connection=connection, **options)


def unacked_older_than(broker: str, seconds: float) -> bool:
    """Kombu keeps unacked deliveries in a sorted set scored by delivery time."""
    client = redis.Redis(unix_socket_path=broker.removeprefix("redis+socket://"))
    oldest = client.zrange("unacked_index", 0, 0, withscores=True)
    return bool(oldest) and time.time() - oldest[0][1] > seconds


def extracted(owner):
    return MemoryItem.objects.owned_by(owner).exclude(kind="summary")


def test_an_idle_conversation_is_summarised_and_mined_by_a_real_worker(
    owner, model, broker, workers
):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    model.defaults["extract"] = memories_json(VEGETARIAN, ZELLIGE)
    conversation = chat(owner, KITCHEN, days_ago=0.01)
    worker = workers()

    send(conversations_sweep, broker)  # what beat sends every minute

    summary = wait_for(
        lambda: SessionSummary.objects.filter(conversation=conversation).first(),
        timeout=60, what="the summary", log=worker.log,
    )  # fmt: skip
    assert summary.message_count == 4 and summary.memory.kind == "summary"
    assert sorted(extracted(owner).values_list("text", flat=True)) == [
        "The user chose green zellige tiles.",
        "The user is vegetarian.",
    ]
    run = wait_for(lambda: TaskRun.objects.filter(state="succeeded").first(), timeout=60,
                   what="the task run", log=worker.log)  # fmt: skip
    assert run.conversation_id == conversation.pk and run.memories_added == 2
    assert run.started_at and run.finished_at and run.attempts == 1
    conversation.refresh_from_db()
    assert conversation.summarised_through == conversation.messages.order_by("id").last().pk


def test_a_worker_killed_mid_task_is_redelivered_and_writes_everything_once(
    owner, model, broker, workers
):
    memory_settings_update(owner=owner, auto_accept_extracted=True)
    model.defaults["extract"] = memories_json(VEGETARIAN)
    model.queue("extract", [("sleep", 60), memories_json(VEGETARIAN)])  # first call hangs
    conversation = chat(owner, KITCHEN)
    task_id = str(uuid.uuid4())
    task_run_create(owner=owner, kind="summarise", target_label="kitchen",
                    conversation_id=conversation.pk, celery_task_id=task_id)  # fmt: skip
    first = workers()

    send(conversation_summarise, broker, conversation.pk, task_id=task_id)
    wait_for(lambda: "extract" in model.calls, timeout=60, what="the extraction call",
             log=first.log)  # fmt: skip
    first.kill()  # mid-task: the summary is written, extraction is waiting on the model

    assert not SessionSummary.objects.exists() and not extracted(owner).exists()
    conversation.refresh_from_db()
    assert conversation.summarised_through is None and conversation.summary_claimed_by == task_id
    assert TaskRun.objects.get(celery_task_id=task_id).state == "running"

    # Redis gives an unacked task back once it is older than the visibility timeout; wait
    # on the broker's own record of it rather than on a guess.
    wait_for(lambda: unacked_older_than(broker, VISIBILITY_TIMEOUT_S), timeout=60,
             what="the unacked task to pass the visibility timeout")  # fmt: skip
    second = workers()

    run = wait_for(
        lambda: TaskRun.objects.filter(celery_task_id=task_id, state="succeeded").first(),
        timeout=60, what="the redelivered task", log=second.log,
    )  # fmt: skip
    assert run.attempts == 2 and run.memories_added == 1
    assert SessionSummary.objects.count() == 1
    assert list(extracted(owner).values_list("text", flat=True)) == ["The user is vegetarian."]
    conversation.refresh_from_db()
    assert conversation.summarised_through == conversation.messages.order_by("id").last().pk
    assert conversation.summary_claimed_until is None

    # Running it all again changes nothing: idempotent by data.
    send(conversation_summarise, broker, conversation.pk)
    wait_for(lambda: TaskRun.objects.filter(state="skipped").exists(), timeout=30,
             what="the repeated task", log=second.log)  # fmt: skip
    assert SessionSummary.objects.count() == 1 and extracted(owner).count() == 1


def test_a_run_stopped_at_its_soft_time_limit_is_recorded_and_rests(owner, model, broker, workers):
    model.queue("extract", [("sleep", 60), memories_json(VEGETARIAN)])  # hangs past the limit
    conversation = chat(owner, KITCHEN)
    task_id = str(uuid.uuid4())
    task_run_create(owner=owner, kind="summarise", target_label="kitchen",
                    conversation_id=conversation.pk, celery_task_id=task_id)  # fmt: skip
    limits = {"CELERY_TASK_TIME_LIMIT": "60", "CELERY_TASK_SOFT_TIME_LIMIT": "3"}
    worker = workers(pool="prefork", **limits)

    # The sender stamps its own limits on the message (as the web process and beat do).
    send(conversation_summarise, broker, conversation.pk, task_id=task_id,
         soft_time_limit=3, time_limit=60)  # fmt: skip

    run = wait_for(
        lambda: TaskRun.objects.filter(celery_task_id=task_id, state="failed").first(),
        timeout=90, what="the run to fail at its soft time limit", log=worker.log,
    )  # fmt: skip
    assert "Stopped at the time limit (3 s)" in run.error
    assert run.attempts == 1  # failed on record, not retried or redelivered
    conversation.refresh_from_db()
    assert conversation.summary_failed_at is not None and "time limit" in conversation.summary_error
    assert conversation.summary_claimed_by == "" and conversation.summarised_through is None
    assert not SessionSummary.objects.exists()
    assert conversation not in conversations_due()  # it rests before the sweep sends it again
