"""Connector benchmarks.

    manage.py bench_connectors calendar [--events 10000] [--changes 100] [--json OUT]
    manage.py bench_connectors drive [--documents 1000] [--json OUT]

Runs a real Radicale on loopback (connectors/bench/radicale.py) and syncs it through the
services the worker uses (connectors/bench/calendar.py), then times what a time
question adds to a chat turn: the turn's calendar block (parse, read, free slots,
fencing), on the synced calendar. The throwaway user and Radicale's folder go afterwards.
`drive` does the same through a WsgiDAV server (connectors/bench/drive.py).
The command lives in the composition root because that block is the assistant's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from rich.console import Console

from memory.bench.stats import percentile

# Asked in turn; no "add" question: those leave a proposal card, not a read.
QUESTIONS = [
    "what's on tomorrow?",
    "what do I have today?",
    "am I free Thursday afternoon?",
    "find a free 30-minute slot next week",
    "what did I have last week?",
    "anything this weekend?",
    "when is my next meeting in Room 7?",
    "what's on next month?",
    "am I free tomorrow at 3pm?",
    "what's happening on Friday morning?",
]


def time_questions(owner, *, rounds: int) -> dict[str, Any]:
    """Milliseconds per question for the calendar block of a turn, on `owner`'s calendar."""
    from assistant.account_models import AccountSettings
    from assistant.models import Conversation, Message
    from assistant.services.calendar_context import calendar_context_build

    # Statistics as autovacuum leaves them within a minute of the bulk load (the sync
    # just inserted ~20,000 rows; a person asks long after that).
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE connectors_event")
    AccountSettings.objects.update_or_create(user=owner, defaults={"time_zone": "Europe/Berlin"})
    conversation = Conversation.objects.create(owner=owner)
    answer = Message.objects.create(conversation=conversation, role="assistant")
    calendar_context_build(answer=answer, question=QUESTIONS[0])  # connections, caches
    timings, injected = [], []
    for _ in range(rounds):
        for question in QUESTIONS:
            started = time.perf_counter()
            context = calendar_context_build(answer=answer, question=question)
            timings.append((time.perf_counter() - started) * 1000)
            injected.append(sum(1 for item in context.items if item.injected))
    return {
        "query_ms": {
            "samples": len(timings),
            "p50": round(percentile(timings, 0.5), 2),
            "p95": round(percentile(timings, 0.95), 2),
            "max": round(max(timings), 2),
        },
        "query_events_injected_mean": round(sum(injected) / len(injected), 1),
    }


class Command(BaseCommand):
    help = "Benchmark calendar sync against a real CalDAV server (Radicale) and time questions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="bench", required=True)
        calendar = sub.add_parser("calendar", help="CalDAV sync phases and time-question latency")
        calendar.add_argument("--events", type=int, default=10_000)
        calendar.add_argument("--changes", type=int, default=100)
        calendar.add_argument("--seed", type=int, default=7)
        calendar.add_argument("--rounds", type=int, default=20, help="of the 10 time questions")
        calendar.add_argument("--json", type=Path, help="write the figures here")
        drive = sub.add_parser("drive", help="WebDAV first and incremental sync")
        drive.add_argument("--documents", type=int, default=1000)
        drive.add_argument("--change-share", type=float, default=0.01)
        drive.add_argument("--seed", type=int, default=7)
        drive.add_argument("--chunks", type=int, default=100_000, help="passages searched")
        drive.add_argument("--memories", type=int, default=1000, help="beside the passages")
        drive.add_argument("--queries", type=int, default=200)
        drive.add_argument("--json", type=Path, help="write the figures here")

    def handle(self, *args, **options):
        console = Console(file=self.stdout)
        if options["bench"] == "drive":
            result = self._drive(console, options)
        else:
            result = self._calendar(console, options)
        if options.get("json"):
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(result, indent=2) + "\n")
            console.print(f"Wrote {options['json']}")

    def _drive(self, console, options) -> dict[str, Any]:
        from connectors.bench import drive, drive_retrieval

        if options["documents"] < 1 or not 0 < options["change_share"] <= 1:
            raise CommandError("--documents must be at least 1, --change-share in (0, 1]")
        if options["queries"] < 1 or options["chunks"] < 0 or options["memories"] < 1:
            raise CommandError("--queries and --memories must be at least 1, --chunks at least 0")

        def progress(message: str) -> None:
            console.print(f"[dim]{message}[/dim]")

        result = drive.run(
            documents=options["documents"],
            change_share=options["change_share"],
            seed=options["seed"],
            progress=progress,
            then=lambda owner: drive_retrieval.retrieval(
                owner,
                chunks=options["chunks"],
                memories=options["memories"],
                queries=options["queries"],
                seed=options["seed"],
                progress=progress,
            ),
        )
        console.print_json(json.dumps(result))
        return result

    def _calendar(self, console, options) -> dict[str, Any]:
        from connectors.bench import calendar

        if options["events"] < 1 or options["changes"] < 0 or options["rounds"] < 1:
            raise CommandError("--events and --rounds must be at least 1, --changes at least 0")
        result = calendar.run(
            events=options["events"],
            changes=options["changes"],
            seed=options["seed"],
            progress=lambda message: console.print(f"[dim]{message}[/dim]"),
            then=lambda owner: time_questions(owner, rounds=options["rounds"]),
        )
        calendar.print_report(console, result)
        return result
