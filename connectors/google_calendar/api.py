"""The few Google Calendar API calls this kind makes, through google-api-python-client:
calendarList.list, events.list (incremental with sync tokens) and events.insert.

The client is built from the discovery document bundled with the library (nothing is
fetched) and sent to GOOGLE_CALENDAR_API_ROOT. Its httplib2 transport carries the
connection's timeout and google-auth Credentials, which refresh an expired token before a
call and once more on a 401; a refreshed token goes back into the Session's secrets.
Errors are sorted into permanent and transient.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import httplib2
from django.conf import settings
from google.auth.exceptions import RefreshError, TransportError
from google_auth_httplib2 import AuthorizedHttp
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.base import PermanentError, Session, TransientError
from connectors.google_calendar.oauth import (
    RECONNECT_HINT,
    credentials_build,
    credentials_secrets,
    refresh_failure,
)

PAGE_SIZE = 2500  # events.list's largest page
CALENDAR_LIST_PAGE_SIZE = 250  # calendarList.list's largest page
# What a request that never got an answer raises, through httplib2 or google-auth.
UNREACHABLE = (OSError, httplib2.HttpLib2Error, http.client.HTTPException, TransportError)


class SyncTokenExpired(Exception):
    """410 Gone: the sync token is no longer valid, a full sync is required."""


class CountingHttp(AuthorizedHttp):
    """Counts API requests, a retry after a refresh included (a token refresh goes
    through the wrapped http, uncounted)."""

    requests = 0

    def request(self, *args: Any, **kwargs: Any) -> Any:
        self.requests += 1
        return super().request(*args, **kwargs)


def error_reason(error: HttpError) -> tuple[str, str]:
    """Google's error message and first reason ("rateLimitExceeded", ...), if any."""
    content = error.content.decode("utf-8", "replace") if error.content else ""
    try:
        body = json.loads(content).get("error", {})
    except (ValueError, AttributeError):
        return content[:200], ""
    if not isinstance(body, dict):
        return str(body), ""
    reasons = [e.get("reason", "") for e in body.get("errors", []) if isinstance(e, dict)]
    return str(body.get("message", "")), (reasons[0] if reasons else "")


def _error(error: HttpError, what: str) -> Exception:
    status = int(error.resp.status)
    message, reason = error_reason(error)
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
        self.credentials = credentials_build(session)
        # One refresh on a 401 (revoked early, or the clock is off), then the 401 stands.
        self.http = CountingHttp(
            self.credentials,
            http=httplib2.Http(timeout=settings.CONNECTOR_HTTP_TIMEOUT_S),
            max_refresh_attempts=1,
        )
        self.service = build(
            "calendar", "v3", http=self.http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": self._endpoint()},
        )  # fmt: skip

    @staticmethod
    def _endpoint() -> str:
        # api_endpoint replaces the discovery document's rootUrl + servicePath whole
        return settings.GOOGLE_CALENDAR_API_ROOT.rstrip("/") + "/calendar/v3/"

    @property
    def requests(self) -> int:
        return int(self.http.requests)

    def close(self) -> None:
        self.service.close()

    def _execute(self, request: Any, what: str) -> dict[str, Any]:
        try:
            return dict(request.execute())
        except HttpError as error:
            raise _error(error, what) from error
        except RefreshError as error:
            raise refresh_failure(error) from error
        except UNREACHABLE as error:
            raise TransientError(f"Google Calendar could not be reached ({error}).") from error
        except ValueError as error:
            raise TransientError(f"Google sent a reply that is not JSON ({what}).") from error
        finally:
            self._token_keep()

    def _token_keep(self) -> None:
        """Record a token google-auth refreshed during the call (saved even on failure)."""
        if self.credentials.token and self.credentials.token != self.session.secrets.get("token"):
            self.session.secrets_update(**credentials_secrets(self.credentials))

    def calendar_list(self) -> list[dict[str, Any]]:
        resource = self.service.calendarList()
        request = resource.list(maxResults=CALENDAR_LIST_PAGE_SIZE)
        items: list[dict[str, Any]] = []
        while request is not None:
            page = self._execute(request, "listing your calendars")
            items.extend(page.get("items", []))
            request = resource.list_next(request, page)
        return items

    def events_pages(self, calendar_id: str, *, sync_token: str = "") -> Iterator[dict[str, Any]]:
        """Every page of events.list: changes since `sync_token`, or everything. The last
        page carries nextSyncToken. SyncTokenExpired when Google wants a full sync."""
        resource = self.service.events()
        params: dict[str, Any] = {"maxResults": PAGE_SIZE, "singleEvents": False,
                                  "showDeleted": True}  # fmt: skip
        if sync_token:
            params["syncToken"] = sync_token
        request = resource.list(calendarId=calendar_id, **params)
        while request is not None:
            page = self._execute(request, "reading events")
            yield page
            request = resource.list_next(request, page)

    def event_insert(self, calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        request = self.service.events().insert(calendarId=calendar_id, body=body)
        return self._execute(request, "adding the event")
