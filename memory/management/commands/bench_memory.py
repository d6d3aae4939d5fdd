"""Memory benchmarks.

    manage.py bench_memory locomo --data ../shared/bench/locomo-dev.json [--k 5,10,25,50]
    manage.py bench_memory scale --per-user 100000 --users 10 [--team-items 100000] [--json OUT]

Both create throwaway users and delete them afterwards (also on Ctrl-C). The dataset
is read from where it lies; it is never copied into the repository.
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from rich.console import Console
from rich.table import Table

from memory.management.schema import require_schema


def _ks(value: str) -> list[int]:
    try:
        ks = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise CommandError(f"--k {value!r}: expected numbers such as 5,10,25,50") from None
    if not ks or ks[0] < 1:
        raise CommandError("--k needs at least one positive number")
    return ks


class Command(BaseCommand):
    help = "Benchmark memory retrieval (LoCoMo evidence recall) and scale (latency, throughput)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="bench", required=True)
        locomo = sub.add_parser("locomo", help="LoCoMo evidence recall@k")
        locomo.add_argument("--data", required=True, type=Path, help="path to locomo-dev.json")
        locomo.add_argument("--k", default="5,10,25,50", type=_ks)
        locomo.add_argument("--json", type=Path, help="write the figures here")
        locomo.add_argument("--limit-conversations", type=int, default=None)
        scale = sub.add_parser("scale", help="insert throughput and retrieval latency at scale")
        scale.add_argument("--per-user", type=int, default=100_000)
        scale.add_argument("--users", type=int, default=10)
        scale.add_argument("--pool", type=int, default=2000, help="distinct sentences embedded")
        scale.add_argument("--sample", type=int, default=500, help="items for the throughput run")
        scale.add_argument("--queries", type=int, default=200)
        scale.add_argument("--seed", type=int, default=7)
        scale.add_argument(
            "--team-items",
            type=int,
            default=0,
            help="also fill a team account with this many memories and time the first user's "
            "search with it (shared_owner_ids) beside the personal-only search",
        )
        scale.add_argument("--json", type=Path)

    def handle(self, *args, **options):
        require_schema()
        console = Console(file=self.stdout)
        if options["bench"] == "locomo":
            result = self._locomo(console, options)
        else:
            from memory.bench import scale

            result = scale.run(
                per_user=options["per_user"],
                users=options["users"],
                pool=options["pool"],
                sample=options["sample"],
                queries=options["queries"],
                seed=options["seed"],
                team_items=options["team_items"],
                progress=lambda message: console.print(f"[dim]{message}[/dim]"),
            )
            scale.print_report(console, result)
        if options.get("json"):
            options["json"].parent.mkdir(parents=True, exist_ok=True)
            options["json"].write_text(json.dumps(result, indent=2) + "\n")
            console.print(f"Wrote {options['json']}")

    def _locomo(self, console: Console, options) -> dict:
        from memory.bench import locomo

        path: Path = options["data"]
        if not path.is_file():
            raise CommandError(f"--data {path}: no such file (see shared/bench/README.md)")
        conversations = locomo.load(path)
        if options["limit_conversations"]:
            conversations = conversations[: options["limit_conversations"]]
        ks = options["k"]
        result = locomo.run(
            conversations, ks, progress=lambda message: console.print(f"[dim]{message}[/dim]")
        )
        table = Table(title=f"LoCoMo evidence recall ({result['questions']} questions)")
        table.add_column("category")
        table.add_column("questions", justify="right")
        for k in ks:
            table.add_column(f"R@{k}", justify="right")
        for name, row in result["by_category"].items():
            table.add_row(name, str(row["questions"]), *(f"{row[f'recall@{k}']:.3f}" for k in ks))
        table.add_row(
            "[bold]overall (1-4)[/bold]",
            str(result["questions"]),
            *(f"[bold]{result['overall'][f'recall@{k}']:.3f}[/bold]" for k in ks),
        )
        console.print(table)
        latency = result["latency_ms"]
        console.print(
            f"retrieval latency p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms "
            f"(memory_search wall time, query embedding included); "
            f"ingest {result['ingest']['turns_per_s']:.0f} turns/s"
        )
        return result
