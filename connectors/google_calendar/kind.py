"""Google Calendar: connected through Google's consent page (OAuth), synced through the
Calendar API with sync tokens, writable where the user may edit."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from connectors.base import (
    Connected,
    ConnectorKind,
    EventDraft,
    PermanentError,
    RemoteSource,
    Resource,
    Session,
    SyncResult,
)
from connectors.google_calendar.api import CalendarApi, SyncTokenExpired
from connectors.google_calendar.convert import draft_to_body, event_resource, is_deletion
from connectors.google_calendar.oauth import EVENTS, SCOPES, token_revoke

WRITABLE_ROLES = ("owner", "writer")


def _remote(item: dict[str, Any], can_write: bool) -> RemoteSource:
    return RemoteSource(
        remote_id=item["id"],
        name=item.get("summaryOverride") or item.get("summary") or item["id"],
        color=item.get("backgroundColor", ""),
        time_zone=item.get("timeZone", ""),
        writable=can_write and item.get("accessRole") in WRITABLE_ROLES,
    )


class GoogleCalendarKind(ConnectorKind):
    slug = "google_calendar"
    name = "Google Calendar"
    description = (
        "Your Google calendars, through Google's consent page: kept in sync, and events "
        "you confirm in chat can be added to them."
    )
    writable = True
    uses_oauth = True
    scopes = SCOPES

    def not_configured(self) -> str:
        if settings.GOOGLE_OAUTH_CLIENT_ID and settings.GOOGLE_OAUTH_CLIENT_SECRET:
            return ""
        return (
            "Set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET (an OAuth client of "
            "type Web application in Google Cloud, with this server's "
            "/connections/google/callback as redirect URI) to offer Google Calendar."
        )

    def connect(self, data: dict[str, Any]) -> Connected:
        raise PermanentError("Google Calendar is connected through Google's consent page.")

    def connected(self, secrets: dict[str, Any]) -> Connected:
        """What to store after the consent: the account and its calendars."""
        session = Session(config={}, secrets=secrets)
        items = self._calendars(session)
        account = next((item["id"] for item in items if item.get("primary")), "")
        can_write = EVENTS in secrets.get("scopes", [])
        return Connected(
            label=f"Google Calendar ({account})" if account else "Google Calendar",
            display_url=account or "Google account",
            config={"account": account, "can_write": can_write},
            secrets=session.secrets,
            sources=[_remote(item, can_write) for item in items],
        )

    def _calendars(self, session: Session) -> list[dict[str, Any]]:
        api = CalendarApi(session)
        try:
            return api.calendar_list()
        finally:
            api.close()

    def sources(self, session: Session) -> list[RemoteSource]:
        can_write = bool(session.config.get("can_write", True))
        return [_remote(item, can_write) for item in self._calendars(session)]

    def sync(self, session: Session, source: RemoteSource, state: dict[str, Any]) -> SyncResult:
        api = CalendarApi(session)
        try:
            token = state.get("sync_token", "")
            try:
                result = self._listing(api, source, token)
            except SyncTokenExpired:
                # 410 Gone: Google forgot the token; start over with a full listing
                result = self._listing(api, source, "")
            result.requests = api.requests
            return result
        finally:
            api.close()

    def _listing(self, api: CalendarApi, source: RemoteSource, token: str) -> SyncResult:
        changed: list[Resource] = []
        deleted: list[str] = []
        problems: list[str] = []
        next_token = ""
        for page in api.events_pages(source.remote_id, sync_token=token):
            zone = page.get("timeZone") or source.time_zone
            for item in page.get("items", []):
                if is_deletion(item):
                    deleted.append(item["id"])
                    continue
                try:
                    changed.append(event_resource(item, calendar_zone=zone))
                except (ValueError, KeyError, TypeError) as error:
                    label = repr(item.get("summary") or "(no title)")
                    problems.append(f"Skipped event {label} ({item.get('id')}): {error}.")
            next_token = page.get("nextSyncToken", next_token)
        if token and not changed and not deleted and next_token == token:
            return SyncResult(state={"sync_token": next_token}, unchanged=True)
        return SyncResult(
            state={"sync_token": next_token},
            changed=changed,
            deleted=[] if not token else deleted,
            complete=not token,  # a full listing: whatever is not in it is gone
            problems=problems,
        )

    def create_event(self, session: Session, source: RemoteSource, draft: EventDraft) -> str:
        if not source.writable:
            raise PermanentError(f"You cannot add events to {source.name!r} on Google.")
        api = CalendarApi(session)
        try:
            return str(api.event_insert(source.remote_id, draft_to_body(draft))["id"])
        finally:
            api.close()

    def disconnect(self, session: Session) -> None:
        token_revoke(session)
