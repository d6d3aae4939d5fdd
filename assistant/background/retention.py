"""Team chat retention: delete team conversations left untouched longer than their
team's `chat_retention_days` (Team settings; empty: kept).

Run by beat once an hour (assistant.tasks.team_chats_expire) and by
`manage.py team_chats_expire`. Each conversation is deleted through conversation_delete,
so its session summaries are forgotten for good exactly as when its owner deletes it;
memories already learned from it stay (they are memories of their own). Batched (at
most TEAM_RETENTION_BATCH a run; the next run takes the rest) and idempotent: each
deletion re-checks, under a row lock taken with SKIP LOCKED, that the conversation is
still in that team and still too old, so a chat someone writes in at that moment is
left alone. One audit event per team and run, with the count; none when nothing went.
Personal chats (no team) are never touched.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from assistant.models import Conversation
from assistant.services.conversations import conversation_delete
from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import Team

log = logging.getLogger(__name__)
TEAM_RETENTION_BATCH = 500  # conversations deleted at most per run


@dataclass
class RetentionReport:
    deleted: int = 0
    teams: dict[int, int] = field(default_factory=dict)  # team id -> conversations deleted
    more: bool = False  # the batch filled up: the next run continues

    def as_dict(self) -> dict:
        return {"deleted": self.deleted, "teams": self.teams, "more": self.more}


def _expired(team: Team, now: datetime):
    cutoff = now - timedelta(days=team.chat_retention_days or 0)
    return Conversation.objects.filter(team_id=team.pk, updated_at__lt=cutoff), cutoff


def _delete_one(*, conversation_id: int, team_id: int, cutoff: datetime) -> bool:
    with transaction.atomic():
        conversation = (
            Conversation.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(pk=conversation_id, team_id=team_id, updated_at__lt=cutoff)
            .first()
        )
        if conversation is None:  # gone, written in just now, or locked by a writer
            return False
        conversation_delete(conversation=conversation, actor="system")
    return True


def team_chats_expire(*, now: datetime | None = None, batch: int | None = None) -> RetentionReport:
    """Delete every team's expired conversations, oldest first, up to `batch` in all."""
    now = now or timezone.now()
    budget = TEAM_RETENTION_BATCH if batch is None else batch
    report = RetentionReport()
    teams = Team.objects.filter(chat_retention_days__isnull=False).order_by("pk")
    for team in teams:
        expired, cutoff = _expired(team, now)
        ids = list(expired.order_by("updated_at", "pk").values_list("pk", flat=True)[: budget + 1])
        if len(ids) > budget:
            report.more, ids = True, ids[:budget]
        count = sum(_delete_one(conversation_id=pk, team_id=team.pk, cutoff=cutoff) for pk in ids)
        if count:
            audit_record(
                action=AuditAction.CHATS_EXPIRED, team=team, target=team,
                detail={"deleted": count, "retention_days": team.chat_retention_days},
            )  # fmt: skip
            report.teams[team.pk] = count
            report.deleted += count
            log.info("Retention: deleted %s chats of team %s", count, team.pk)
        budget -= len(ids)
        if budget <= 0:
            report.more = report.more or teams.filter(pk__gt=team.pk).exists()
            break
    return report
