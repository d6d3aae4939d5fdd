"""The Google Calendar client's failures, in words and sorted: an unreachable API or
token endpoint is passing (retried), an unknown calendar and a revoked grant are not;
a token refreshed on the way is kept in the session (the caller saves it encrypted)."""

from __future__ import annotations

import pytest

from connectors.base import PermanentError, Session, TransientError
from connectors.google_calendar.api import CalendarApi
from inference.local_server import free_port
from tests.connectors.fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle

REFRESH = "1//kept-by-the-connection"


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
        settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
        settings.GOOGLE_OAUTH_TOKEN_URI = fake.url("/token")
        settings.GOOGLE_CALENDAR_API_ROOT = fake.url("/")
        fake.refresh[REFRESH] = True
        fake.calendar_add("olivia@example.com", "olivia@example.com", primary=True)
        yield fake


def session() -> Session:
    return Session(config={}, secrets={"refresh_token": REFRESH})


def test_a_refreshed_token_is_kept_in_the_session(google):
    kept = session()
    api = CalendarApi(kept)
    assert [c["id"] for c in api.calendar_list()] == ["olivia@example.com"]
    assert kept.secrets_changed and kept.secrets["token"].startswith("ya29.")
    assert kept.secrets["refresh_token"] == REFRESH and kept.secrets["expiry"]
    assert api.requests == 1  # the token refresh is not an API request


def test_an_unreachable_api_is_transient(google, settings):
    settings.GOOGLE_CALENDAR_API_ROOT = f"http://127.0.0.1:{free_port()}/"
    with pytest.raises(TransientError, match="could not be reached"):
        CalendarApi(session()).calendar_list()


def test_an_unreachable_token_endpoint_is_transient(google, settings):
    settings.GOOGLE_OAUTH_TOKEN_URI = f"http://127.0.0.1:{free_port()}/token"
    with pytest.raises(TransientError):
        CalendarApi(session()).calendar_list()


def test_an_unknown_calendar_is_permanent_with_its_status(google):
    with pytest.raises(PermanentError) as raised:
        next(CalendarApi(session()).events_pages("gone@group.calendar.google.com"))
    assert raised.value.status == 404 and "could not find" in raised.value.message


def test_a_revoked_grant_is_permanent(google):
    google.refresh[REFRESH] = False
    with pytest.raises(PermanentError, match="revoked"):
        CalendarApi(session()).calendar_list()
