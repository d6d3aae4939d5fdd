"""One sync of one connection: refresh its sources, then apply each included source's
changes in its own transaction (with the new sync state, so an interrupted sync leaves
nothing half-applied). Claims, retries and task runs are the background home's
(assistant/background/syncs.py); this module raises ConnectorError for it to sort.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from connectors.base import ConnectorError, RemoteSource, Session
from connectors.calendar.apply import ApplyReport, source_result_apply
from connectors.crypto import secrets_decrypt, secrets_encrypt
from connectors.models import Connection, Source
from connectors.registry import kinds

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], object]


@dataclass
class SyncReport:
    sources: int = 0
    added: int = 0
    updated: int = 0
    removed: int = 0
    requests: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        changes = f"{self.added} added, {self.updated} changed, {self.removed} removed"
        calendars = f"{self.sources} calendar{'s' if self.sources != 1 else ''}"
        skipped = f"; {len(self.problems)} skipped" if self.problems else ""
        return f"{calendars} synced: {changes}{skipped}."


def connection_session(connection: Connection) -> Session:
    return Session(
        config=dict(connection.config), secrets=secrets_decrypt(connection.secrets_encrypted)
    )


def session_save(connection: Connection, session: Session) -> None:
    """Keep a refreshed token (written even when the sync itself fails)."""
    if session.secrets_changed:
        Connection.objects.filter(pk=connection.pk).update(
            secrets_encrypted=secrets_encrypt(session.secrets)
        )
        session.secrets_changed = False


def remote_of(source: Source) -> RemoteSource:
    return RemoteSource(
        remote_id=source.remote_id,
        name=source.name,
        color=source.color,
        time_zone=source.time_zone,
        writable=source.writable,
    )


@transaction.atomic
def sources_refresh(
    *, connection: Connection, remote: list[RemoteSource], include_new: bool = False
) -> list[str]:
    """Match the stored sources to what the server offers now. A calendar that vanished
    loses its events (and is marked gone); a new one is listed, included only when
    `include_new` (at connect time the user chose; later ones wait for the user)."""
    notes: list[str] = []
    kind = kinds().get(connection.kind)
    noun = "folder" if kind is not None and kind.category == "drive" else "calendar"
    stored = {source.remote_id: source for source in connection.sources.all()}
    seen = set()
    for item in remote:
        seen.add(item.remote_id)
        source = stored.get(item.remote_id)
        if source is None:
            Source.objects.create(
                owner_id=connection.owner_id, connection=connection, remote_id=item.remote_id,
                name=item.name[:300], color=item.color[:32], time_zone=item.time_zone[:64],
                writable=item.writable, included=include_new,
            )  # fmt: skip
            if not include_new:
                notes.append(f"New {noun} {item.name!r} found: include it to sync it.")
            continue
        source.name, source.color = item.name[:300], item.color[:32]
        source.time_zone, source.writable = item.time_zone[:64], item.writable
        if source.gone_at is not None:
            source.gone_at, source.state = None, {}
        source.save(update_fields=["name", "color", "time_zone", "writable", "gone_at", "state"])
    for remote_id, source in stored.items():
        if remote_id not in seen and source.gone_at is None:
            source_forget(source=source)
            notes.append(
                f"{noun.capitalize()} {source.name!r} is gone from the server: "
                f"{'its files were' if noun == 'folder' else 'its events were'} removed."
            )
    return notes


def source_forget(*, source: Source) -> None:
    """A calendar (or folder) that is gone: drop what was synced from it, keep the row
    to say so."""
    source.documents.all().delete()
    source.events.all().delete()
    source.resources.all().delete()
    source.gone_at = timezone.now()
    source.state = {}
    source.expanded_from = source.expanded_until = None
    source.save(update_fields=["gone_at", "state", "expanded_from", "expanded_until"])


def connection_sync(
    *, connection: Connection, progress: Progress | None = None, watch: Callable | None = None
) -> SyncReport:
    """Sync every included source of `connection` (the caller holds its claim).
    `progress` hears (done, total); a drive's sync tells `watch` its full counts too
    (a connectors.services.progress.SyncProgress at each step).

    Raises ConnectorError (permanent or transient) when the server fails; the sources
    finished before the failure stay synced."""
    kind = kinds()[connection.kind]
    session = connection_session(connection)
    report = SyncReport()
    try:
        report.problems.extend(sources_refresh(connection=connection, remote=kind.sources(session)))
        if kind.category == "drive":
            # Files: listed, downloaded, embedded (that module builds on this one).
            from connectors.services.files import drive_sync

            return drive_sync(
                connection=connection, kind=kind, session=session, problems=report.problems,
                progress=progress, watch=watch,
            )  # fmt: skip
        sources = list(connection.sources.included())
        for done, source in enumerate(sources):
            if progress:
                progress(done, len(sources))
            result = kind.sync(session, remote_of(source), dict(source.state))
            report.requests += result.requests
            with transaction.atomic():
                locked = Source.objects.select_for_update().get(pk=source.pk)
                applied: ApplyReport = source_result_apply(source=locked, result=result)
            report.sources += 1
            report.added += applied.added
            report.updated += applied.updated
            report.removed += applied.removed
            report.problems.extend(result.problems if not result.unchanged else [])
            report.problems.extend(applied.problems)
        if progress:
            progress(len(sources), len(sources))
    finally:
        session_save(connection, session)
        session.close()
    return report


def connection_sync_succeeded(*, connection: Connection, report: SyncReport) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        last_sync_at=timezone.now(),
        last_sync_summary=report.summary()[:500],
        last_error="",
        last_error_hint="",
        last_error_at=None,
    )


def connection_sync_failed(*, connection: Connection, error: ConnectorError) -> None:
    """Record the error; a permanent one pauses the connection until the user acts."""
    message = error.message + (
        f" ({error.url})" if error.url and error.url not in error.message else ""
    )
    values: dict = {
        "last_error": message[:2000],
        "last_error_hint": error.hint[:1000],
        "last_error_at": timezone.now(),
    }
    if error.permanent:
        values.update(status=Connection.Status.PAUSED, paused_reason=message[:2000])
    Connection.objects.filter(pk=connection.pk).update(**values)
    logger.info("Sync of connection %s failed: %s", connection.pk, message)
