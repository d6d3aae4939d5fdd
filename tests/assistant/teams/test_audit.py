"""The audit log: append-only in the app and in PostgreSQL, the team admin's page with its
filters, and the CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AppendOnlyError, AuditEvent
from assistant.teams.services import team_create

pytestmark = pytest.mark.django_db


def test_the_app_has_no_way_to_change_or_delete_an_event(people):
    event = AuditEvent.objects.filter(team_id=people.team.pk).first()
    name = event.actor_name
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="member.left")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        event.delete()
    event.actor_name = "someone else"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError), transaction.atomic():  # bulk_update's own atomic
        AuditEvent.objects.bulk_update([event], ["actor_name"])
    assert AuditEvent.objects.get(pk=event.pk).actor_name == name


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE assistant_auditevent SET actor_name = 'x'",
        "DELETE FROM assistant_auditevent",
    ],
)
def test_the_database_refuses_updates_and_deletes(people, sql):
    count = AuditEvent.objects.count()
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql)
    assert AuditEvent.objects.count() == count
    assert not AuditEvent.objects.filter(actor_name="x").exists()


def test_events_outlive_the_people_and_teams_they_name(people):
    team_id = people.team.pk
    people.admin.delete()
    people.team.delete()
    names = set(AuditEvent.objects.filter(team_id=team_id).values_list("actor_name", flat=True))
    assert {"tess-owner", "ada-admin", "max-member"} <= names


def _page(client, team, **query) -> str:
    response = client.get(reverse("teams:audit", args=[team.pk]), query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_page_lists_and_filters(people, client):
    client.force_login(people.admin)
    body = _page(client, people.team)
    logged = AuditEvent.objects.filter(team_id=people.team.pk).count()
    assert body.count('class="audit-row"') == logged
    assert "team.created" in body and "member.left" in body
    body = _page(client, people.team, action="member.left")
    assert body.count('class="audit-row"') == 1 and "fay" in body
    body = _page(client, people.team, actor=people.admin.pk)
    assert body.count('class="audit-row"') == 1  # ada-admin's own join
    # Other teams' events never show.
    team_create(actor=people.outsider, name="Elsewhere")
    assert "Elsewhere" not in _page(client, people.team)


def test_the_date_filter(people, client):
    client.force_login(people.owner)
    audit_record(action="team.created", actor=people.owner, team=people.team)
    # Back-dated rows can only be inserted: write one 10 days ago through the model.
    AuditEvent.objects.create(
        action="member.left", actor_id=people.owner.pk, actor_name="ghost",
        team_id=people.team.pk, team_name="Lighthouse", at=timezone.now() - timedelta(days=10),
    )  # fmt: skip
    day = (timezone.localdate() - timedelta(days=10)).isoformat()
    body = _page(client, people.team, since=day, until=day)
    assert body.count('class="audit-row"') == 1 and "ghost" in body
    body = _page(client, people.team, since=timezone.localdate().isoformat())
    assert "ghost" not in body and body.count('class="audit-row"') >= 2  # today's only
    # Malformed filters filter nothing (no error).
    assert _page(client, people.team, since="yesterday", actor="x", action="drop table")


def test_csv_export_with_the_filters(people, client):
    client.force_login(people.owner)
    response = client.get(
        reverse("teams:audit-csv", args=[people.team.pk]), {"action": "member.joined"}
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {row["action"] for row in rows} == {"member.joined"}
    assert sorted(row["actor"] for row in rows) == ["ada-admin", "fay", "max-member"]


def test_csv_cells_cannot_become_formulas(people, client):
    client.force_login(people.owner)
    audit_record(action="team.created", team=people.team, detail={"x": 1}, target_type="t",
                 target_id="=HYPERLINK(\"http://evil\")")  # fmt: skip
    content = b"".join(
        client.get(reverse("teams:audit-csv", args=[people.team.pk])).streaming_content
    ).decode()
    assert "'=HYPERLINK" in content
