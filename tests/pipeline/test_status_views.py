"""The live status of background work on the memory page: a poller that stops itself."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.runs import task_run_create

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
STATUS = reverse("background-status")


def queued(owner, label="conversation 1: Kitchen", **fields):
    return task_run_create(owner=owner, kind="summarise", target_label=label, **fields)


def finished(owner, state, label="conversation 2: Garden", **fields):
    run = queued(owner, label)
    TaskRun.objects.filter(pk=run.pk).update(state=state, finished_at=timezone.now(), **fields)
    return run


def test_status_needs_login(client):
    response = client.get(STATUS, **HX)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_memory_page_polls_while_work_is_pending(owner_client, owner):
    queued(owner)
    queued(owner, "conversation 3: Tiles", state="running")

    page = owner_client.get(reverse("memory:index")).content.decode()

    assert 'id="pipeline-status"' in page and 'hx-trigger="every 2s"' in page
    assert "Summarising 2 conversations…" in page


def test_the_poller_stops_itself_when_nothing_is_pending(owner_client, owner):
    finished(owner, "succeeded", detail="Summarised messages 1 to 4 (4); 2 new memories.")

    response = owner_client.get(STATUS + "?was_pending=1", **HX)

    assert response.status_code == 286  # htmx: stop polling
    body = response.content.decode()
    assert "hx-trigger" not in body and "2 new memories" in body
    # The list and the inbox refresh: the run may have brought new memories.
    assert "memory-inbox-changed" in response["HX-Trigger"]
    assert "memory-list-changed" in response["HX-Trigger"]


def test_the_poller_keeps_going_while_a_run_is_pending(owner_client, owner):
    queued(owner)
    response = owner_client.get(STATUS, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-trigger="every 2s"' in body and "Waiting to summarise 1 conversation…" in body


def test_failures_are_shown_with_their_error(owner_client, owner):
    finished(owner, "failed", error="The fast model server at http://x returned HTTP 401: bad key")
    body = owner_client.get(reverse("memory:index")).content.decode()
    assert "Recent background work" in body and "returned HTTP 401: bad key" in body
    assert "alert-error" in body and '<details class="pipeline-recent" open>' in body


def test_no_section_before_any_background_work(owner_client):
    body = owner_client.get(reverse("memory:index")).content.decode()
    assert 'id="pipeline-status"' in body and "every 2s" not in body


def test_other_users_runs_are_never_shown(owner_client, owner, outsider):
    queued(outsider, "conversation 9: Mallory's secret plans")
    finished(outsider, "failed", "conversation 10: Mallory", error="mallory's error")
    body = owner_client.get(reverse("memory:index")).content.decode()
    assert "Mallory" not in body and "every 2s" not in body
    response = owner_client.get(STATUS, **HX)
    assert response.status_code == 286 and "Mallory" not in response.content.decode()


def test_without_htmx_the_status_url_goes_to_the_page(owner_client):
    response = owner_client.get(STATUS)
    assert response.status_code == 302 and response["Location"] == reverse("memory:index")
