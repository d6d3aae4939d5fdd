"""Synced calendars and events for tests, made the way a sync leaves them (rows, no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from connectors.models import Connection, Event, Source


def calendar_create(
    owner: Any,
    name: str = "Personal",
    *,
    kind: str = "scripted_write",
    writable: bool = True,
    included: bool = True,
    connection: Connection | None = None,
) -> Source:
    """One calendar of a (new, unless given) connection of `kind`."""
    connection = connection or Connection.objects.create(
        owner=owner, kind=kind, label=f"{name} account"
    )
    return Source.objects.create(
        owner=owner, connection=connection, remote_id=f"/cal/{name.lower()}/", name=name,
        writable=writable, included=included,
    )  # fmt: skip


def event_add(
    source: Source,
    title: str,
    start: datetime | date,
    end: datetime | date | None = None,
    **fields: Any,
) -> Event:
    """A synced event: timed for datetimes (an hour by default), all day for dates."""
    if isinstance(start, datetime):
        end = end or start + timedelta(hours=1)
        times = {"start": start, "end": end, "time_zone": str(start.tzinfo or "UTC")}
    else:
        last = end or start + timedelta(days=1)
        times = {
            "start": datetime(start.year, start.month, start.day, tzinfo=UTC),
            "end": datetime(last.year, last.month, last.day, tzinfo=UTC),
            "all_day": True, "start_date": start, "end_date": last,
        }  # fmt: skip
    uid = fields.pop("uid", f"{title}-{start.isoformat()}-{Event.objects.count()}@test")
    return Event.objects.create(
        owner=source.owner, connection=source.connection, source=source, uid=uid, title=title,
        status=fields.pop("status", "CONFIRMED"), **times, **fields,
    )  # fmt: skip
