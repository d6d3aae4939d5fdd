"""Connector benchmarks.

    manage.py bench_connectors calendar [--events 10000] [--changes 100] [--json OUT]

Runs a real Radicale on loopback (connectors/bench/radicale.py) and syncs it through the
services the worker uses; the throwaway user and the server's folder go afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console


class Command(BaseCommand):
    help = "Benchmark calendar sync against a real CalDAV server (Radicale)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="bench", required=True)
        calendar = sub.add_parser("calendar", help="CalDAV first, unchanged and incremental sync")
        calendar.add_argument("--events", type=int, default=10_000)
        calendar.add_argument("--changes", type=int, default=100)
        calendar.add_argument("--seed", type=int, default=7)
        calendar.add_argument("--json", type=Path, help="write the figures here")

    def handle(self, *args, **options):
        from connectors.bench import calendar

        if options["events"] < 1 or options["changes"] < 0:
            raise CommandError("--events must be at least 1 and --changes at least 0")
        console = Console(file=self.stdout)
        result = calendar.run(
            events=options["events"],
            changes=options["changes"],
            seed=options["seed"],
            progress=lambda message: console.print(f"[dim]{message}[/dim]"),
        )
        calendar.print_report(console, result)
        if options.get("json"):
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(result, indent=2) + "\n")
            console.print(f"Wrote {options['json']}")
