"""Memory and connection changes in the audit log: one row per action through the real
services, none for a change that rolled back, never a memory's text, and never on a team's
page (personal events belong to their owner's "Your activity")."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse

from assistant.background.tasks import connection_sync
from assistant.teams.audit_models import AuditEvent
from connectors.services.connections import connection_reconnect
from connectors.services.disconnect import connection_disconnect
from memory.models import Status
from memory.services import (
    memory_create,
    memory_forget,
    memory_forget_all,
    memory_forget_permanently,
    memory_pin,
    memory_unforget,
    memory_update,
)
from memory.services.imports import memory_import
from memory.services.review import memory_accept, memory_reject, memory_review_bulk
from memory.services.transfer import memory_export
from tests import factories
from tests.assistant.teams.personas import person
from tests.connectors.scripted_kind import (  # noqa: F401
    ics,
    scripted_connection,
    scripted_kind_fixture,
)

pytestmark = pytest.mark.django_db

SECRET_TEXT = "My locker code is 4711."


@pytest.fixture
def ana(db):
    return person("ana")


def remember(user, text=SECRET_TEXT, **fields):
    return factories.remember(user, text, changed_by=user, **fields)


def rows(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def only(action: str) -> AuditEvent:
    (event,) = rows(action=action)
    return event


def test_create_edit_pin_forget_each_write_one_row(ana):
    item = remember(ana)
    created = only("memory.created")
    assert (created.actor_id, created.owner_id, created.team_id) == (ana.pk, ana.pk, None)
    assert (created.target_type, created.target_id) == ("memoryitem", str(item.pk))

    memory_update(item=item, text="My locker code is 1234.", actor="user", changed_by=ana)
    memory_update(item=item, text="My locker code is 1234.", actor="user", changed_by=ana)
    assert only("memory.edited").target_id == str(item.pk)  # an unchanged text: no row

    memory_pin(item=item, actor="user", changed_by=ana)
    memory_pin(item=item, actor="user", changed_by=ana)  # already pinned: nothing
    memory_pin(item=item, actor="user", pinned=False, changed_by=ana)
    assert only("memory.pinned").actor_id == only("memory.unpinned").actor_id == ana.pk

    memory_forget(item=item, actor="user", changed_by=ana)
    memory_unforget(item=item, actor="user", changed_by=ana)
    memory_forget_permanently(item=item, actor="user", changed_by=ana)
    for action in ("memory.forgotten", "memory.unforgotten", "memory.erased"):
        assert only(action).target_id == str(item.pk)
    assert len(rows(owner_id=ana.pk)) == 7
    # What a permanent forget erased is not kept in the append-only log.
    for event in rows():
        assert "locker" not in str(event.detail) and "1234" not in str(event.detail)


def test_forget_all_and_erase_all_are_one_row_each(ana):
    items = [remember(ana, f"Fact number {n}.") for n in range(3)]
    memory_forget_all(owner=ana, changed_by=ana)
    forgotten = only("memory.forgotten")
    assert forgotten.detail["count"] == 3 and forgotten.target_id == ""
    assert sorted(forgotten.detail["items"]) == sorted(item.pk for item in items)
    memory_forget_all(owner=ana, permanently=True, changed_by=ana)
    assert only("memory.erased").detail["count"] == 3


def test_review_accept_and_reject(ana):
    first, second = (remember(ana, t, status=Status.PROPOSED) for t in ("Likes tea.", "Hates jam."))
    memory_accept(item=first, changed_by=ana)
    memory_reject(item=second, changed_by=ana)
    assert only("memory.approved").target_id == str(first.pk)
    assert only("memory.rejected").target_id == str(second.pk)
    bulk = [remember(ana, t, status=Status.PROPOSED) for t in ("Owns a cat.", "Owns a dog.")]
    memory_review_bulk(owner=ana, ids=[item.pk for item in bulk], accept=True, changed_by=ana)
    approved = rows(action="memory.approved")
    assert len(approved) == 2 and approved[1].detail["count"] == 2


def test_export_and_import(ana):
    remember(ana, "Lives in Porto.")
    data = memory_export(owner=ana)
    exported = only("memory.exported")
    assert (exported.actor_id, exported.detail["count"]) == (ana.pk, 1)
    bea = person("bea")
    memory_import(owner=bea, data=data, changed_by=bea)
    imported = only("memory.imported")
    assert (imported.actor_id, imported.owner_id) == (bea.pk, bea.pk)
    assert (imported.detail["added"], imported.detail["skipped"]) == (1, 0)


def test_a_rolled_back_change_leaves_no_row(ana):
    item = remember(ana)
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        memory_pin(item=item, actor="user", changed_by=ana)
        memory_forget(item=item, actor="user", changed_by=ana)
        raise RuntimeError("the request failed after the change")
    item.refresh_from_db()
    assert not item.pinned and item.deleted_at is None
    assert AuditEvent.objects.count() == before
    memory_forget_permanently(item=item, changed_by=ana)
    with pytest.raises(ValueError):  # refused by the service itself: nothing recorded
        memory_update(item=item, text="New text.", actor="user", changed_by=ana)
    assert not rows(action="memory.edited")


def test_extraction_has_no_actor_but_the_owner_sees_it(ana):
    memory_create(owner=ana, text="Runs on Sundays.", kind="fact", source="extracted",
                  actor="assistant", status=Status.PROPOSED)  # fmt: skip
    event = only("memory.created")
    assert (event.actor_id, event.owner_id, event.detail["by"]) == (None, ana.pk, "assistant")


def test_connect_sync_reconnect_disconnect(ana, scripted_kind):
    scripted_kind.script.objects = {"work": {"w1.ics": ics("w1", "Standup")}}
    made = scripted_connection(ana, scripted_kind)
    connected = only("connection.connected")
    assert (connected.actor_id, connected.owner_id, connected.target_id) == (
        ana.pk, ana.pk, str(made.pk),
    )  # fmt: skip
    assert connected.detail["kind"] == "scripted"
    assert "s3cret" not in str(connected.detail)

    connection_sync.apply(args=(made.pk,))
    synced = only("connection.synced")
    assert (synced.actor_id, synced.owner_id, synced.target_id) == (None, ana.pk, str(made.pk))
    assert "1 added" in synced.detail["summary"]

    scripted_kind.script.errors = [{"permanent": True, "message": "Wrong password"}]
    connection_sync.apply(args=(made.pk,))
    failed = only("connection.sync_failed")
    assert "Wrong password" in failed.detail["first_problem"]

    made.refresh_from_db()
    connection_reconnect(connection=made, connected=scripted_kind.connect(
        {"url": "https://cal.example.org/dav/", "username": "ana", "password": "new-pass-word"}
    ))  # fmt: skip
    assert only("connection.reconnected").target_id == str(made.pk)

    connection_disconnect(connection=made)
    gone = only("connection.disconnected")
    assert (gone.actor_id, gone.target_id, gone.detail["event"]) == (ana.pk, str(made.pk), 1)


def test_team_admins_never_see_a_members_personal_events(people, client):
    remember(people.member, "A private thing.")
    memory_forget_all(owner=people.member, changed_by=people.member)
    personal = rows(owner_id=people.member.pk)
    assert len(personal) == 2 and all(event.team_id is None for event in personal)
    client.force_login(people.admin)
    url = reverse("teams:audit", args=[people.team.pk])
    page = client.get(url).content.decode()
    assert page.count('class="audit-row"') > 0 and "<code>memory." not in page
    filtered = client.get(url, {"action": "memory.created"}).content.decode()
    assert 'class="audit-row"' not in filtered
    csv = b"".join(client.get(reverse("teams:audit-csv", args=[people.team.pk]))).decode()
    assert "memory." not in csv
