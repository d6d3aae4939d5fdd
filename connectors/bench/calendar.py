"""The calendar sync benchmark: a real Radicale holding N events, synced through the
same services the worker calls, timed and counted.

Radicale's own first read of the files (its cache) is timed apart, before the
connection exists. Phases: the first (full) sync, an unchanged sync, an incremental
sync after `changes` edits (half changed, a quarter deleted, a quarter added), and a
full listing after the server rejects the saved sync token. The throwaway user (and
everything synced for it) and Radicale's folder are removed afterwards, also on Ctrl-C.
"""

from __future__ import annotations

import random
import resource
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.utils import timezone
from rich.console import Console
from rich.table import Table

from connectors.bench.ics import vcalendar, vevent
from connectors.bench.radicale import RadicaleAccount, radicale_server
from connectors.models import Connection, Event, Source
from connectors.registry import kinds
from connectors.services.connections import connection_create
from connectors.services.sync import connection_sync

ZONES = [ZoneInfo("UTC"), ZoneInfo("Europe/Berlin"), ZoneInfo("America/New_York")]
USER, PASSWORD = "bench", "bench-password"


def _event(n: int, rng: random.Random, *, title: str = "") -> str:
    """One object: mostly single events over the past and next ~300 days, 5% weekly."""
    day = timezone.localdate() + timedelta(days=rng.randint(-300, 300))
    zone = ZONES[n % len(ZONES)]
    start = datetime(day.year, day.month, day.day, 8 + n % 10, 0, tzinfo=zone)
    rrule = "FREQ=WEEKLY;COUNT=20" if n % 20 == 0 else ""
    return vcalendar(
        vevent(f"bench-{n}", title or f"Event {n}", start, rrule=rrule, location=f"Room {n % 50}")
    )


def _timed(step: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = step()
    return value, time.perf_counter() - started


def _phase(name: str, connection: Connection) -> dict[str, Any]:
    connection.refresh_from_db()
    report, seconds = _timed(lambda: connection_sync(connection=connection))
    return {
        "phase": name,
        "seconds": round(seconds, 3),
        "requests": report.requests,
        "added": report.added,
        "updated": report.updated,
        "removed": report.removed,
        "problems": len(report.problems),
    }


def _measure(owner, server, rng: random.Random, events: int, changes: int, progress) -> dict:
    account = RadicaleAccount(server, USER, PASSWORD)
    account.calendar_create("bench", displayname="Bench")
    progress(f"Writing {events} events into Radicale's storage…")
    objects = {f"bench-{n}.ics": _event(n, rng) for n in range(events)}
    _, write_s = _timed(lambda: account.bulk_write("bench", objects))
    # Radicale reads every new file once to fill its cache; a live server has done so.
    progress("Radicale reads the new files once…")
    listing = f"/{USER}/bench/"
    _, warm_s = _timed(
        lambda: account.request("PROPFIND", listing, "", {"Depth": "1"}, timeout=None)
    )
    connected = kinds()["caldav"].connect(
        {"url": server.base_url + "/", "username": USER, "password": PASSWORD}
    )
    connection = connection_create(owner=owner, kind="caldav", connected=connected)
    progress("First sync (everything)…")
    phases = [_phase("first sync", connection)]
    stored = Event.objects.filter(owner=owner).count()
    progress("Unchanged sync…")
    phases.append(_phase("unchanged", connection))
    progress(f"{changes} changes through CalDAV, then an incremental sync…")
    edits = rng.sample(range(events), k=min(changes, events))
    changed, rest = edits[: len(edits) // 2], edits[len(edits) // 2 :]
    deleted = rest[: len(rest) // 2]
    for n in changed:
        account.object_put("bench", f"bench-{n}.ics", _event(n, rng, title="Moved"))
    for n in deleted:
        account.object_delete("bench", f"bench-{n}.ics")
    for n in range(events, events + len(rest) - len(deleted)):
        account.object_put("bench", f"bench-{n}.ics", _event(n, rng))
    phases.append(_phase(f"{len(edits)} changes", connection))
    progress("Sync token rejected: full listing…")
    source = Source.objects.get(connection=connection)
    source.state = {**source.state, "sync_token": "http://radicale.org/ns/sync/rejected"}
    source.save(update_fields=["state"])
    account.object_put("bench", "bench-extra.ics", _event(events * 2, rng))
    phases.append(_phase("token rejected", connection))
    return {
        "events": events,
        "changes": len(edits),
        "objects_written_s": round(write_s, 3),
        "radicale_cache_fill_s": round(warm_s, 3),
        "occurrences_stored": stored,
        "phases": phases,
    }


def _headline(result: dict[str, Any]) -> dict[str, Any]:
    """The figures the issue names, read off the phases."""
    first, incremental = result["phases"][0], result["phases"][2]
    return {
        "full_sync_s": first["seconds"],
        "events_per_s": round(result["events"] / first["seconds"], 1) if first["seconds"] else 0,
        "occurrences_per_s": (
            round(result["occurrences_stored"] / first["seconds"], 1) if first["seconds"] else 0
        ),
        "incremental_s": incremental["seconds"],
    }


def _peak_rss_mb(who: int) -> float:
    return round(resource.getrusage(who).ru_maxrss / 1024, 1)  # kilobytes on Linux


def run(
    *,
    events: int = 10_000,
    changes: int = 100,
    seed: int = 7,
    progress=lambda message: None,
    then: Callable[[Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Sync a Radicale of `events` objects; `then(owner)` measures more on the synced
    calendar (the time-question latency, measured by the composition root) before the
    throwaway user goes."""
    owner = get_user_model().objects.create_user(username=f"bench-calendar-{uuid.uuid4().hex[:8]}")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="bench-radicale-") as folder,
            radicale_server(folder, {USER: PASSWORD}) as server,
        ):
            result = _measure(owner, server, random.Random(seed), events, changes, progress)
            result.update(_headline(result))
            if then is not None:
                result.update(then(owner))
        # This process (sync and queries) and Radicale, which has exited by now.
        result["peak_rss_mb"] = _peak_rss_mb(resource.RUSAGE_SELF)
        result["radicale_peak_rss_mb"] = _peak_rss_mb(resource.RUSAGE_CHILDREN)
        return result
    finally:
        owner.delete()


def print_report(console: Console, result: dict[str, Any]) -> None:
    table = Table(
        title=f"CalDAV sync, {result['events']} objects "
        f"({result['occurrences_stored']} occurrences stored)"
    )
    for column in ("phase", "seconds", "requests", "added", "updated", "removed", "problems"):
        table.add_column(column, justify="left" if column == "phase" else "right")
    for phase in result["phases"]:
        table.add_row(*(str(phase[key]) for key in phase))
    console.print(table)
    console.print(
        f"first sync {result['events_per_s']} objects/s · incremental "
        f"{result['incremental_s']} s · peak RSS {result['peak_rss_mb']} MB "
        f"(Radicale {result['radicale_peak_rss_mb']} MB)"
    )
    if "query_ms" in result:
        q = result["query_ms"]
        console.print(
            f"time question ({q['samples']} asked): p50 {q['p50']} ms · p95 {q['p95']} ms "
            f"· max {q['max']} ms"
        )
