"""CalDAV: a calendar account on Nextcloud, Radicale, Fastmail, iCloud or any CalDAV
server; synced incrementally (sync tokens, ETags) and writable."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from connectors.base import (
    Connected,
    ConnectorKind,
    EventDraft,
    PermanentError,
    RemoteSource,
    Session,
    SyncResult,
)
from connectors.caldav.changes import calendar_changes
from connectors.caldav.discovery import account_discover, calendars_list
from connectors.caldav.forms import CalDavForm
from connectors.caldav.protocol import Dav
from connectors.caldav.write import event_create
from connectors.net import url_check


@contextmanager
def _dav(session: Session):
    config = session.config
    dav = Dav(
        url=config["url"],
        username=config.get("username", ""),
        password=session.secrets.get("password", ""),
        auth_type=config.get("auth_type", ""),
    )
    try:
        yield dav
    finally:
        dav.close()


class CalDavKind(ConnectorKind):
    slug = "caldav"
    name = "CalDAV"
    description = (
        "A calendar account on Nextcloud, Radicale, Fastmail, iCloud or another CalDAV "
        "server: every calendar in it, kept in sync, and events can be added."
    )
    writable = True

    def form_class(self) -> Any:
        return CalDavForm

    def connect(self, data: dict[str, Any]) -> Connected:
        url = url_check(data["url"])
        username, password = data.get("username", "").strip(), data.get("password", "")
        dav = Dav(url=url, username=username, password=password)
        try:
            account = account_discover(dav)
            auth_type = dav.auth_type
        finally:
            dav.close()
        host = urlsplit(url).hostname or url
        return Connected(
            label=f"{username} on {host}"[:200] if username else host,
            display_url=url,
            config={
                "url": url,
                "username": username,
                "home_url": account.home_url,
                "auth_type": auth_type,
            },
            secrets={"password": password},
            sources=account.sources,
        )

    def sources(self, session: Session) -> list[RemoteSource]:
        with _dav(session) as dav:
            home = session.config.get("home_url")
            if home:
                try:
                    return calendars_list(dav, home)
                except PermanentError as error:
                    if error.status not in (404, 410):
                        raise
            return account_discover(dav).sources  # the home moved: find it again

    def sync(self, session: Session, source: RemoteSource, state: dict[str, Any]) -> SyncResult:
        with _dav(session) as dav:
            return calendar_changes(dav, source.remote_id, state)

    def create_event(self, session: Session, source: RemoteSource, draft: EventDraft) -> str:
        if not source.writable:
            raise PermanentError(f"The calendar {source.name!r} is read-only for this account.")
        with _dav(session) as dav:
            return event_create(dav, source.remote_id, draft)
