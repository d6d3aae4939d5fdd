"""Summarise and mine existing conversations now, with a progress bar.

Uses the same services as the background worker. Resumable: each conversation's
`summarised_through` marker records how far it got, so running it again continues.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from assistant.background.backfill import conversation_backfill, conversations_for_backfill
from assistant.background.models import TaskRun
from memory.management.schema import require_schema


def _since(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since {value!r} is not a date like 2025-01-31.") from None
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class Command(BaseCommand):
    help = "Summarise existing conversations and extract memories from them (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="Only this user's conversations (username).")
        parser.add_argument(
            "--since", help="Only conversations active on or after this date (YYYY-MM-DD)."
        )

    def handle(self, *args, user=None, since=None, **options):
        require_schema()
        owner = None
        if user:
            owner = get_user_model().objects.filter(username=user).first()
            if owner is None:
                raise CommandError(f"There is no user called {user!r}.")
        conversations = conversations_for_backfill(user=owner, since=_since(since))
        total = conversations.count()
        if not total:
            self.stdout.write("Every conversation is already summarised.")
            return
        counts = {"memories": 0, "summarised": 0, "failed": 0, "skipped": 0}
        bar = tqdm(conversations.iterator(), total=total, unit="conversation", disable=None)
        for conversation in bar:
            run, outcome = conversation_backfill(conversation=conversation)
            counts["memories"] += outcome.memories_added
            if run.state == TaskRun.State.FAILED:
                counts["failed"] += 1
                tqdm.write(f"{run.target_label}: failed: {run.error}")
            elif run.state == TaskRun.State.SUCCEEDED:
                counts["summarised"] += 1
            else:
                counts["skipped"] += 1
            bar.set_postfix(memories=counts["memories"], failed=counts["failed"])
        self.stdout.write(
            f"{counts['summarised']} conversations summarised, {counts['memories']} memories "
            f"extracted, {counts['skipped']} skipped, {counts['failed']} failed"
            + (" (run again to retry them)." if counts["failed"] else ".")
        )
        if counts["failed"]:
            raise CommandError(f"{counts['failed']} conversations failed; see the errors above.")
