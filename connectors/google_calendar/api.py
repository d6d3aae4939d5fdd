"""The few Google Calendar API calls this kind makes, as plain authorized HTTP requests
to GOOGLE_CALENDAR_API_ROOT (no discovery document to fetch): calendarList.list,
events.list (incremental with sync tokens) and events.insert, with errors sorted into
permanent and transient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings

from connectors.base import PermanentError, Session, TransientError
from connectors.google_calendar.oauth import RECONNECT_HINT, access_token, token_refresh

PAGE_SIZE = 2500  # events.list's largest page


class SyncTokenExpired(Exception):
    """410 Gone: the sync token is no longer valid, a full sync is required."""


def _reason(response: requests.Response) -> tuple[str, str]:
    """Google's error message and first reason ("rateLimitExceeded", ...), if any."""
    try:
        error = response.json().get("error", {})
    except ValueError:
        return response.text[:200], ""
    if not isinstance(error, dict):
        return str(error), ""
    reasons = [e.get("reason", "") for e in error.get("errors", []) if isinstance(e, dict)]
    return str(error.get("message", "")), (reasons[0] if reasons else "")


def _error(response: requests.Response, what: str) -> Exception:
    status = response.status_code
    message, reason = _reason(response)
    said = f" Google said: {message}" if message else ""
    if status == 410:
        return SyncTokenExpired(message)
    if status == 429 or status >= 500 or reason in ("rateLimitExceeded", "userRateLimitExceeded"):
        return TransientError(
            f"Google Calendar is busy or failing ({what}: HTTP {status}); it will be tried again.",
            status=status,
        )
    if status == 401:
        return PermanentError(
            f"Google refused this server's access ({what}: HTTP 401).{said}",
            hint=RECONNECT_HINT,
            status=status,
        )
    if status == 403:
        return PermanentError(
            f"Google does not allow {what} (HTTP 403).{said}",
            hint=RECONNECT_HINT + " Accept every permission it asks for.",
            status=status,
        )
    if status == 404:
        return PermanentError(
            f"Google could not find it ({what}: HTTP 404).{said}",
            hint="The calendar may have been deleted or unshared.",
            status=status,
        )
    return PermanentError(f"Google refused the request ({what}: HTTP {status}).{said}",
                          status=status)  # fmt: skip


class CalendarApi:
    """One connection's API client; counts its requests for the sync's report."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.http = requests.Session()
        self.requests = 0

    def close(self) -> None:
        self.http.close()

    def _call(self, method: str, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        url = settings.GOOGLE_CALENDAR_API_ROOT.rstrip("/") + "/calendar/v3/" + path
        token = access_token(self.session)
        for attempt in range(2):
            self.requests += 1
            try:
                response = self.http.request(
                    method, url, headers={"Authorization": f"Bearer {token}"},
                    timeout=settings.CONNECTOR_HTTP_TIMEOUT_S, **kwargs,
                )  # fmt: skip
            except requests.exceptions.RequestException as error:
                raise TransientError(f"Google Calendar could not be reached ({error}).") from error
            if response.status_code == 401 and attempt == 0:
                token = token_refresh(self.session)  # revoked early, or the clock is off
                continue
            if response.status_code >= 400:
                raise _error(response, what)
            try:
                return response.json()
            except ValueError as error:
                raise TransientError(f"Google sent a reply that is not JSON ({what}).") from error
        raise AssertionError("unreachable")

    def calendar_list(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"maxResults": 250}
        while True:
            page = self._call("GET", "users/me/calendarList", "listing your calendars",
                              params=params)  # fmt: skip
            items.extend(page.get("items", []))
            if not page.get("nextPageToken"):
                return items
            params["pageToken"] = page["nextPageToken"]

    def events_pages(self, calendar_id: str, *, sync_token: str = "") -> Iterator[dict[str, Any]]:
        """Every page of events.list: changes since `sync_token`, or everything. The last
        page carries nextSyncToken. SyncTokenExpired when Google wants a full sync."""
        params: dict[str, Any] = {"maxResults": PAGE_SIZE, "singleEvents": "false",
                                  "showDeleted": "true"}  # fmt: skip
        if sync_token:
            params["syncToken"] = sync_token
        path = f"calendars/{quote(calendar_id, safe='')}/events"
        while True:
            page = self._call("GET", path, "reading events", params=params)
            yield page
            if not page.get("nextPageToken"):
                return
            params["pageToken"] = page["nextPageToken"]

    def event_insert(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        path = f"calendars/{quote(calendar_id, safe='')}/events"
        return self._call("POST", path, "adding the event", json=body)
