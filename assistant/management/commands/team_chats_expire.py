"""Delete team chats past their team's retention period now (what the hourly beat task
does; assistant/background/retention.py). Runs batch after batch until none is left."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from assistant.background.retention import TEAM_RETENTION_BATCH, team_chats_expire
from memory.management.schema import require_schema


class Command(BaseCommand):
    help = "Delete team conversations untouched for longer than their team keeps chats."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=TEAM_RETENTION_BATCH)

    def handle(self, *args, batch: int, **options):
        require_schema()
        total = 0
        while True:
            report = team_chats_expire(batch=max(1, batch))
            total += report.deleted
            if not report.more or not report.deleted:
                break
        self.stdout.write(f"Deleted {total} team conversation(s) past their retention period.")
