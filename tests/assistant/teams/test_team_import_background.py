"""Big team memory imports run in the background, like personal ones: the run and the
stored file belong to the team's account, the import's revisions and audit event name the
admin who uploaded it, and the team's memory page shows the run's progress to its admins
and members (polling the team twin of the background-status view). A member cannot
import; a personal import is unchanged (tests/memory/test_import_views.py)."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from assistant.background.imports import memory_import_pending_run
from assistant.background.models import PendingImport, TaskRun
from assistant.background.tasks import memory_import as memory_import_task
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import active_team_switch
from memory.models import MemoryItem, MemoryRevision

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
ITEMS = 250  # over the default MEMORY_IMPORT_SYNC_MAX_ITEMS (200)
TEAM_POLL = 'hx-get="/team/memory/background?was_pending=1"'


def signed_in(user, team=None) -> Client:
    """A browser of `user`, working in `team` (None: personal space)."""
    active_team_switch(user=user, team_id=team.pk if team is not None else None)
    client = Client()
    client.force_login(user)
    return client


def upload(count: int = ITEMS, name: str = "team-big.json") -> io.BytesIO:
    items = [{"text": f"Team fact number {n}."} for n in range(count)]
    data = {"format": "recall-assistant/memory", "version": 1, "items": items}
    file = io.BytesIO(json.dumps(data).encode())
    file.name = name
    return file


def test_the_limit_is_the_default_one():
    assert django_settings.MEMORY_IMPORT_SYNC_MAX_ITEMS < ITEMS


def test_an_admin_imports_a_big_file_into_the_team_in_the_background(
    people, django_capture_on_commit_callbacks
):
    account = people.team.account
    admin = signed_in(people.admin, people.team)
    member = signed_in(people.member, people.team)
    with django_capture_on_commit_callbacks() as queued:
        response = admin.post(reverse("team-memory:import"), {"file": upload()}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert f"Importing {ITEMS} memories in the background" in body
    # The team page's background section is swapped in and polls the team's twin.
    assert 'hx-swap-oob="outerHTML"' in body and TEAM_POLL in body
    assert len(queued) == 1

    run = TaskRun.objects.get(kind="import")
    assert (run.owner_id, run.state, run.progress_total) == (account.pk, "queued", ITEMS)
    assert run.target_label == f"import of {ITEMS} memories from team-big.json"
    pending = PendingImport.objects.get(run=run)
    assert (pending.owner_id, pending.requested_by_id) == (account.pk, people.admin.pk)
    assert not MemoryItem.objects.owned_by(account).exists()

    # Admins and members see its progress on the team's page and through its poller.
    for browser in (admin, member):
        page = browser.get(reverse("team-memory:index")).content.decode()
        assert f"Waiting to import {ITEMS} memories…" in page and TEAM_POLL in page
        polled = browser.get(reverse("team-memory:background"), **HX)
        assert polled.status_code == 200
        assert f"Waiting to import {ITEMS} memories" in polled.content.decode()
    # Not on anyone's personal page or poller: the run is the team account's.
    personal = signed_in(people.admin)
    assert "Waiting to import" not in personal.get(reverse("memory:index")).content.decode()
    mine = personal.get(reverse("background-status"), **HX)
    assert mine.status_code == 286 and b"import" not in mine.content.lower()

    # The Celery task (memory_import_pending_run, with the run's bookkeeping signals).
    memory_import_task.apply(args=[pending.pk], task_id=run.celery_task_id)

    run.refresh_from_db()
    assert (run.state, run.memories_added, run.memories_skipped) == ("succeeded", ITEMS, 0)
    assert (run.progress_done, run.progress_total) == (ITEMS, ITEMS)
    assert MemoryItem.objects.owned_by(account).count() == ITEMS
    assert not PendingImport.objects.exists()
    assert not MemoryItem.objects.owned_by(people.admin).exists()
    revisions = MemoryRevision.objects.filter(item__owner=account)
    assert revisions.count() == ITEMS
    assert set(revisions.values_list("changed_by", flat=True)) == {people.admin.pk}
    event = AuditEvent.objects.get(action="memory.imported")
    assert (event.team_id, event.team_name, event.actor_id) == (
        people.team.pk,
        "Lighthouse",
        people.admin.pk,
    )
    assert event.detail["added"] == ITEMS

    done = member.get(reverse("team-memory:background") + "?was_pending=1", **HX)
    assert done.status_code == 286 and f"Imported {ITEMS} memories." in done.content.decode()
    assert "memory-list-changed" in done["HX-Trigger"]


def test_a_member_cannot_import_and_nothing_is_queued(people, django_capture_on_commit_callbacks):
    member = signed_in(people.member, people.team)
    with django_capture_on_commit_callbacks() as queued:
        response = member.post(reverse("team-memory:import"), {"file": upload()}, **HX)
    assert response.status_code == 403
    assert not queued
    assert not TaskRun.objects.exists() and not PendingImport.objects.exists()
    assert not MemoryItem.objects.owned_by(people.team.account).exists()


def test_outside_the_team_the_poller_is_404(people):
    admin = signed_in(people.admin, people.team)
    admin.post(reverse("team-memory:import"), {"file": upload()}, **HX)
    assert TaskRun.objects.filter(owner=people.team.account).exists()
    for persona in ("former", "outsider"):
        browser = Client()
        browser.force_login(people.get(persona))
        assert browser.get(reverse("team-memory:background"), **HX).status_code == 404
    # Working in personal space, a member's team poller is 404 too.
    away = signed_in(people.member)
    assert away.get(reverse("team-memory:background"), **HX).status_code == 404


def test_without_htmx_the_team_poller_sends_back_to_the_team_page(people):
    member = signed_in(people.member, people.team)
    response = member.get(reverse("team-memory:background"))
    assert response.status_code == 302
    assert response["Location"] == reverse("memory:index", current_app="team-memory")


def test_a_personal_big_import_names_its_owner_as_requester(people, settings):
    settings.MEMORY_IMPORT_SYNC_MAX_ITEMS = 1
    own = signed_in(people.member)
    response = own.post(reverse("memory:import"), {"file": upload(2, "mine.json")}, **HX)
    assert "Importing 2 memories in the background" in response.content.decode()
    assert 'hx-get="/memory/background?was_pending=1"' in response.content.decode()
    pending = PendingImport.objects.get()
    assert (pending.owner_id, pending.requested_by_id) == (people.member.pk, people.member.pk)
    memory_import_pending_run(pending_id=pending.pk)
    revisions = MemoryRevision.objects.filter(item__owner=people.member)
    assert set(revisions.values_list("changed_by", flat=True)) == {people.member.pk}
