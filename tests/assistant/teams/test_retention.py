"""Team chat retention: the beat task deletes a team's conversations untouched for longer
than its chat_retention_days, and nothing else; batched, idempotent, audited per team."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistant.background import retention
from assistant.background.tasks import team_chats_expire as team_chats_expire_task
from assistant.models import Conversation, Message
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import team_create, team_settings_update
from memory.models import MemoryItem, MemoryRevision, SessionSummary

pytestmark = pytest.mark.django_db

EXPIRED = "chats.expired"


def _chat(owner, *, team=None, days_ago: float, title: str = "chat") -> Conversation:
    conversation = Conversation.objects.create(owner=owner, team=team, title=title)
    Message.objects.create(conversation=conversation, role="user", content="hello")
    Conversation.objects.filter(pk=conversation.pk).update(
        updated_at=timezone.now() - timedelta(days=days_ago)
    )
    return conversation


def _keep(team, actor, days: int | None) -> None:
    team_settings_update(actor=actor, team=team, chat_retention_days=days)


def _left() -> set[str]:
    return set(Conversation.objects.values_list("title", flat=True))


def test_only_the_teams_old_chats_go(people):
    other = team_create(actor=people.outsider, name="Harbour")
    _keep(people.team, people.owner, 30)
    _chat(people.member, team=people.team, days_ago=31, title="old team chat")
    _chat(people.admin, team=people.team, days_ago=45, title="older team chat")
    _chat(people.member, team=people.team, days_ago=29, title="recent team chat")
    _chat(people.member, days_ago=400, title="old personal chat")
    _chat(people.outsider, team=other, days_ago=400, title="other team, keeps all")

    report = retention.team_chats_expire()

    assert report.deleted == 2 and report.teams == {people.team.pk: 2} and not report.more
    assert _left() == {"recent team chat", "old personal chat", "other team, keeps all"}
    (event,) = AuditEvent.objects.filter(action=EXPIRED)
    assert event.team_id == people.team.pk and event.actor_id is None
    assert event.detail == {"deleted": 2, "retention_days": 30}
    page = Client()
    page.force_login(people.admin)
    audit = page.get(reverse("teams:audit", args=[people.team.pk]))
    assert audit.status_code == 200 and "Team chats deleted by retention" in audit.text
    # Idempotent: a second run finds nothing and records nothing.
    assert retention.team_chats_expire().deleted == 0
    assert AuditEvent.objects.filter(action=EXPIRED).count() == 1


def test_each_team_its_own_period_and_its_own_record(people):
    other = team_create(actor=people.outsider, name="Harbour")
    _keep(people.team, people.owner, 10)
    _keep(other, people.outsider, 100)
    _chat(people.member, team=people.team, days_ago=11, title="a")
    _chat(people.outsider, team=other, days_ago=11, title="b")
    _chat(people.outsider, team=other, days_ago=101, title="c")
    report = retention.team_chats_expire()
    assert report.teams == {people.team.pk: 1, other.pk: 1}
    assert _left() == {"b"}
    assert sorted(AuditEvent.objects.filter(action=EXPIRED).values_list("team_id", flat=True)) == (
        sorted([people.team.pk, other.pk])
    )


def test_batches_continue_where_the_last_stopped(people):
    _keep(people.team, people.owner, 1)
    for n in range(5):
        _chat(people.member, team=people.team, days_ago=2 + n, title=f"c{n}")
    first = retention.team_chats_expire(batch=2)
    assert first.deleted == 2 and first.more
    assert _left() == {"c0", "c1", "c2"}  # the oldest went first
    call_command("team_chats_expire", "--batch", "2")  # the command runs to the end
    assert _left() == set()


def test_a_deleted_chat_forgets_its_summaries_like_a_users_delete(people):
    _keep(people.team, people.owner, 7)
    conversation = _chat(people.member, team=people.team, days_ago=8)
    message = conversation.messages.get()
    item = MemoryItem.objects.create(
        owner=people.member, text="We talked about tiles.", kind="summary", source="summary"
    )
    SessionSummary.objects.create(
        owner=people.member, conversation=conversation, memory=item,
        first_message_id=message.pk, last_message_id=message.pk, message_count=1,
        started_at=message.created_at, ended_at=message.created_at,
    )  # fmt: skip
    retention.team_chats_expire()
    assert not Conversation.objects.exists()
    item.refresh_from_db()
    assert item.is_redacted and item.text == ""
    assert MemoryRevision.objects.filter(item=item).order_by("-id").first().actor == "system"


def test_no_period_keeps_everything_and_the_task_reports(people):
    _chat(people.member, team=people.team, days_ago=5000, title="ancient")
    assert team_chats_expire_task() == {"deleted": 0, "teams": {}, "more": False}
    assert _left() == {"ancient"}
    names = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert "assistant.tasks.team_chats_expire" in names
