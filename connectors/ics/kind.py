"""ICS subscription: one read-only feed, fetched whole (conditionally) on every sync."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from connectors.base import (
    Connected,
    ConnectorKind,
    PermanentError,
    RemoteSource,
    Session,
    SyncResult,
)
from connectors.ics.feed import feed_fetch
from connectors.ics.forms import IcsForm, webcal_to_https
from connectors.ics.split import feed_split
from connectors.net import url_check

FEED_ID = "feed"  # the one source's remote id


def url_masked(url: str) -> str:
    """The feed's address as the page shows it: host and file name only, since private
    feeds (Google's "secret address", Outlook's) carry their secret in the path."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    segments = [segment for segment in parts.path.split("/") if segment]
    shown = f"{parts.scheme}://{host}"
    if segments:
        last = segments[-1] if len(segments[-1]) <= 40 else ""
        shown += ("/" if len(segments) == 1 else "/…/") + last if last else "/…"
    return shown + ("?…" if parts.query else "")


class IcsKind(ConnectorKind):
    slug = "ics"
    name = "Calendar subscription (ICS)"
    description = (
        "A calendar published as an iCal/ICS link (webcal:// too): public holidays, a "
        "team's shared calendar, the secret address of a Google or Outlook calendar. "
        "Read-only."
    )
    writable = False

    def form_class(self) -> Any:
        return IcsForm

    def connect(self, data: dict[str, Any]) -> Connected:
        url = url_check(webcal_to_https(data["url"]))
        shown = url_masked(url)
        fetched = feed_fetch(url=url, shown_url=shown, state={})
        split = feed_split(fetched.text or "")
        if not split.resources and split.problems:
            raise PermanentError(
                "The feed holds no event that can be read: " + split.problems[0],
                url=shown,
            )
        name = (data.get("name") or "").strip() or split.name or urlsplit(url).hostname or url
        return Connected(
            label=name[:200],
            display_url=shown,
            config={"name": name[:300], "time_zone": split.time_zone},
            secrets={"url": url},
            sources=[self._source(name, split.time_zone)],
        )

    def _source(self, name: str, time_zone: str) -> RemoteSource:
        return RemoteSource(remote_id=FEED_ID, name=name, time_zone=time_zone, writable=False)

    def sources(self, session: Session) -> list[RemoteSource]:
        config = session.config
        return [self._source(config.get("name") or "Calendar", config.get("time_zone", ""))]

    def sync(self, session: Session, source: RemoteSource, state: dict[str, Any]) -> SyncResult:
        url = session.secrets["url"]
        fetched = feed_fetch(url=url, shown_url=url_masked(url), state=state)
        if fetched.text is None:
            return SyncResult(state=fetched.state, unchanged=True, requests=1)
        split = feed_split(fetched.text)
        return SyncResult(
            state=fetched.state,
            changed=split.resources,
            complete=True,  # the feed is the whole calendar: what is not in it is gone
            problems=split.problems,
            requests=1,
        )
