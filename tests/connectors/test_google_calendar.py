"""The Google Calendar kind against a local stand-in for Google (tests/connectors/fake_google.py):
the consent redirects driven with the Django test client, syncs over real HTTP."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from django.contrib.messages import get_messages
from django.urls import reverse

from assistant.background.models import TaskRun
from assistant.background.syncs import connection_sync_run
from connectors.base import EventDraft, PermanentError
from connectors.crypto import secrets_decrypt, secrets_encrypt
from connectors.google_calendar.oauth import SESSION_KEY
from connectors.models import Connection, Event
from connectors.services.disconnect import connection_disconnect
from connectors.services.events import event_create
from connectors.services.sync import connection_sync, connection_sync_failed
from tests.connectors.fake_google import CLIENT_ID, CLIENT_SECRET, READONLY_ONLY, FakeGoogle

PRIMARY = "olivia@example.com"
HOLIDAYS = "fr.french#holiday@group.v.calendar.google.com"
PARIS = ZoneInfo("Europe/Paris")
DAY = date.today() + timedelta(days=7)


def paris(day_offset: int, hour: int, minute: int = 0) -> dict[str, str]:
    moment = datetime.combine(DAY + timedelta(days=day_offset), time(hour, minute), PARIS)
    return {"dateTime": moment.isoformat(), "timeZone": "Europe/Paris"}


def compact(day_offset: int) -> str:
    return (DAY + timedelta(days=day_offset)).strftime("%Y%m%d")


@pytest.fixture
def google(settings):
    with FakeGoogle() as fake:
        settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
        settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
        settings.GOOGLE_OAUTH_AUTH_URI = fake.url("/auth")
        settings.GOOGLE_OAUTH_TOKEN_URI = fake.url("/token")
        settings.GOOGLE_OAUTH_REVOKE_URI = fake.url("/revoke")
        settings.GOOGLE_CALENDAR_API_ROOT = fake.url("/")
        fake.calendar_add(PRIMARY, PRIMARY, primary=True)
        fake.calendar_add(HOLIDAYS, "Holidays in France", role="reader")
        _fill(fake)
        yield fake


def _fill(fake: FakeGoogle) -> None:
    fake.event_put(PRIMARY, {
        "id": "standup", "summary": "Standup", "start": paris(0, 9, 30), "end": paris(0, 9, 45),
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=4",
                       f"EXDATE;TZID=Europe/Paris:{compact(7)}T093000"],
        "organizer": {"email": PRIMARY, "self": True},
        "attendees": [{"email": "bob@example.com", "displayName": "Bob"}],
    })  # fmt: skip
    fake.event_put(PRIMARY, {
        "id": f"standup_{compact(14)}T083000Z", "recurringEventId": "standup",
        "originalStartTime": paris(14, 9, 30), "summary": "Standup (moved)",
        "start": paris(14, 11), "end": paris(14, 11, 15),
    })  # fmt: skip
    fake.event_put(PRIMARY, {
        "id": f"standup_{compact(21)}T083000Z", "recurringEventId": "standup",
        "originalStartTime": paris(21, 9, 30), "status": "cancelled",
    })  # fmt: skip
    fake.event_put(PRIMARY, {"id": "dentist", "summary": "Dentist", "location": "Rue X",
                             "start": paris(2, 15), "end": paris(2, 16)})  # fmt: skip
    fake.event_put(PRIMARY, {"id": "gone", "status": "cancelled"})
    fake.event_put(HOLIDAYS, {
        "id": "armistice", "summary": "Armistice Day",
        "start": {"date": (DAY + timedelta(days=3)).isoformat()},
        "end": {"date": (DAY + timedelta(days=4)).isoformat()},
    })  # fmt: skip


def consent(client, start: str | None = None):
    """Start, let the fake consent page answer, and follow it back to the callback."""
    response = client.get(start or reverse("connectors:google-start"))
    assert response.status_code == 302, response
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == reverse("connectors:google-callback")
    return client.get(f"{callback.path}?{callback.query}")


def said(response) -> str:
    return " ".join(str(message) for message in get_messages(response.wsgi_request))


def connect(client, django_capture_on_commit_callbacks) -> Connection:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = consent(client)
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:detail", args=[connection.pk])
    with django_capture_on_commit_callbacks(execute=False):
        for callback in callbacks:  # the first sync is queued once the connection is saved
            callback()
    return connection


def titles(connection: Connection) -> list[tuple[str, str]]:
    return [(e.title, e.start.isoformat()) for e in Event.objects.filter(connection=connection)]


def test_the_consent_redirects_connect_the_account_and_queue_its_first_sync(
    owner_client, owner, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    assert connection.owner == owner
    assert connection.label == f"Google Calendar ({PRIMARY})"
    sources = {s.remote_id: s for s in connection.sources.all()}
    assert set(sources) == {PRIMARY, HOLIDAYS}
    assert sources[PRIMARY].writable and not sources[HOLIDAYS].writable
    assert sources[PRIMARY].time_zone == "Europe/Paris"
    stored = secrets_decrypt(connection.secrets_encrypted)
    assert stored["refresh_token"] in google.refresh
    assert stored["refresh_token"] not in connection.secrets_encrypted
    assert SESSION_KEY not in owner_client.session
    assert TaskRun.objects.filter(connection_id=connection.pk, kind=TaskRun.Kind.SYNC).exists()


def test_the_start_asks_for_offline_access_with_pkce(owner_client, google):
    response = owner_client.get(reverse("connectors:google-start"))
    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["scope"][0].split() == [
        "https://www.googleapis.com/auth/calendar.readonly",
        "https://www.googleapis.com/auth/calendar.events",
    ]
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]
    kept = owner_client.session[SESSION_KEY]
    assert kept["state"] == query["state"][0] and kept["code_verifier"]
    assert query["redirect_uri"] == ["http://testserver/connections/google/callback"]


def test_a_full_sync_pages_through_events_and_keeps_recurrences(
    owner_client, google, django_capture_on_commit_callbacks
):
    google.page_size = 2
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    report = connection_sync(connection=connection)
    assert report.problems == []
    primary_listings = [q for q in google.listings if "pageToken" in q]
    assert len(primary_listings) >= 2  # the primary calendar took three pages
    events = {(e.title, e.start.astimezone(PARIS).isoformat()) for e in Event.objects.all()}
    at = lambda offset, hour, minute=0: (  # noqa: E731
        datetime.combine(DAY + timedelta(days=offset), time(hour, minute), PARIS).isoformat()
    )
    assert events == {
        ("Standup", at(0, 9, 30)),  # +7 is an EXDATE, +21 a cancelled instance
        ("Standup (moved)", at(14, 11)),
        ("Dentist", at(2, 15)),
        ("Armistice Day", datetime.combine(DAY + timedelta(days=3), time(0), ZoneInfo("UTC"))
         .astimezone(PARIS).isoformat()),
    }  # fmt: skip
    holiday = Event.objects.get(title="Armistice Day")
    assert holiday.all_day and holiday.start_date == DAY + timedelta(days=3)
    standup = Event.objects.get(title="Standup")
    assert standup.time_zone == "Europe/Paris" and standup.attendees == ["Bob"]
    assert Event.objects.get(title="Dentist").location == "Rue X"
    assert all(s.state.get("sync_token") for s in connection.sources.all())


def test_the_next_sync_asks_only_for_changes_with_the_sync_token(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    connection_sync(connection=connection)
    standup_ids = set(Event.objects.filter(title="Standup").values_list("id", flat=True))
    google.event_cancel(PRIMARY, "dentist")
    google.event_put(PRIMARY, {"id": "lunch", "summary": "Lunch", "start": paris(1, 12),
                               "end": paris(1, 13)})  # fmt: skip
    google.listings.clear()
    report = connection_sync(connection=connection)
    assert all("syncToken" in q for q in google.listings)
    assert (report.added, report.removed) == (1, 1)
    titles_now = set(Event.objects.values_list("title", flat=True))
    assert "Dentist" not in titles_now and "Lunch" in titles_now
    assert set(Event.objects.filter(title="Standup").values_list("id", flat=True)) == standup_ids


def test_a_forgotten_sync_token_means_a_full_resync(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    connection_sync(connection=connection)
    google.sync_tokens_forget()
    del google.events[PRIMARY]["dentist"]  # gone without a trace: only a full listing shows it
    google.listings.clear()
    connection_sync(connection=connection)
    assert any("syncToken" in q for q in google.listings)
    assert any("syncToken" not in q and "pageToken" not in q for q in google.listings)
    assert not Event.objects.filter(title="Dentist").exists()
    assert Event.objects.filter(title="Standup (moved)").exists()


def test_an_expired_access_token_is_refreshed_and_saved_encrypted(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    before = secrets_decrypt(connection.secrets_encrypted)["token"]
    google.access_expire()  # Google says 401: the client refreshes once and retries
    connection_sync(connection=connection)
    connection.refresh_from_db()
    after = secrets_decrypt(connection.secrets_encrypted)
    assert after["token"] != before and after["token"] in google.access
    assert after["token"] not in connection.secrets_encrypted
    assert Event.objects.filter(title="Dentist").exists()


def test_a_token_past_its_expiry_is_refreshed_before_calling(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    stored = secrets_decrypt(connection.secrets_encrypted)
    stale = {**stored, "expiry": "2020-01-01T00:00:00+00:00"}
    Connection.objects.filter(pk=connection.pk).update(secrets_encrypted=secrets_encrypt(stale))
    connection.refresh_from_db()
    refreshes = google.calls["POST /token"]
    connection_sync(connection=connection)
    assert google.calls["POST /token"] == refreshes + 1
    connection.refresh_from_db()
    assert secrets_decrypt(connection.secrets_encrypted)["expiry"] > stale["expiry"]


def test_revoked_access_pauses_the_connection_until_it_is_reconnected(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    connection_sync(connection=connection)
    google.revoke_all()
    with pytest.raises(PermanentError, match="Google access was revoked") as caught:
        connection_sync(connection=connection)
    connection_sync_failed(connection=connection, error=caught.value)
    connection.refresh_from_db()
    assert connection.is_paused and "revoked" in connection.paused_reason
    assert "Reconnect" in connection.last_error_hint
    # Reconnecting goes through the consent page again and keeps the same connection
    start = owner_client.get(reverse("connectors:reconnect", args=[connection.pk]))
    assert start["Location"] == reverse("connectors:google-start") + f"?reconnect={connection.pk}"
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = consent(owner_client, start["Location"])
    assert response["Location"] == reverse("connectors:detail", args=[connection.pk])
    assert len(callbacks) >= 1
    connection.refresh_from_db()
    assert not connection.is_paused and Connection.objects.count() == 1
    assert Event.objects.filter(connection=connection, title="Dentist").exists()
    connection_sync(connection=connection)


def test_declining_on_googles_page_is_said_in_words(owner_client, google):
    google.deny = True
    response = consent(owner_client)
    assert response["Location"] == reverse("connectors:index")
    assert "You declined access" in said(response)
    assert not Connection.objects.exists()


def test_a_callback_that_does_not_match_the_start_is_refused(owner_client, google):
    response = owner_client.get(reverse("connectors:google-callback") + "?code=x&state=y")
    assert "expired or was started in another browser" in said(response)
    owner_client.get(reverse("connectors:google-start"))
    response = owner_client.get(reverse("connectors:google-callback") + "?code=x&state=forged")
    assert response["Location"] == reverse("connectors:index")
    assert "did not match" in said(response)
    assert not Connection.objects.exists()


def test_read_only_consent_makes_every_calendar_read_only(
    owner_client, google, django_capture_on_commit_callbacks
):
    google.granted_scope = READONLY_ONLY
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    assert not connection.sources.filter(writable=True).exists()


def test_not_configured_is_shown_with_the_fix(owner_client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    page = owner_client.get(reverse("connectors:index"))
    assert "Set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET" in page.content.decode()
    response = owner_client.get(reverse("connectors:google-start"))
    assert response["Location"] == reverse("connectors:index")
    assert "GOOGLE_OAUTH_CLIENT_ID" in said(response)


def test_a_confirmed_event_is_inserted_in_google_and_synced_back(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    connection_sync(connection=connection)
    primary = connection.sources.get(remote_id=PRIMARY)
    start = datetime.combine(DAY + timedelta(days=5), time(18), PARIS)
    draft = EventDraft(title="Dinner with Bob", start=start, end=start + timedelta(hours=2),
                       time_zone="Europe/Paris", location="Chez Paul")  # fmt: skip
    event_id = event_create(source=primary, draft=draft)
    inserted = google.events[PRIMARY][event_id]
    assert inserted["summary"] == "Dinner with Bob"
    assert inserted["start"] == {"dateTime": start.isoformat(), "timeZone": "Europe/Paris"}
    connection_sync(connection=connection)
    dinner = Event.objects.get(title="Dinner with Bob")
    assert dinner.start == start and dinner.location == "Chez Paul"
    holidays = connection.sources.get(remote_id=HOLIDAYS)
    with pytest.raises(PermanentError, match="read-only"):
        event_create(source=holidays, draft=draft)


def test_disconnect_revokes_the_grant(owner_client, google, django_capture_on_commit_callbacks):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    refresh = secrets_decrypt(connection.secrets_encrypted)["refresh_token"]
    done = connection_disconnect(connection=connection)
    assert done.revoke_problem == ""
    assert google.revoked == [refresh]
    assert not Connection.objects.exists()


# -- who may use the two URLs ----------------------------------------------------------


@pytest.mark.parametrize("name", ["connectors:google-start", "connectors:google-callback"])
def test_anonymous_visitors_are_sent_to_sign_in(client, google, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_an_outsider_cannot_reconnect_someone_elses_connection(
    owner_client, outsider, client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    client.force_login(outsider)
    response = client.get(reverse("connectors:google-start") + f"?reconnect={connection.pk}")
    assert response.status_code == 404
    assert SESSION_KEY not in client.session


def test_the_owner_may_start_a_reconnect_of_their_own(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    response = owner_client.get(reverse("connectors:google-start") + f"?reconnect={connection.pk}")
    assert response.status_code == 302
    assert owner_client.session[SESSION_KEY]["reconnect"] == str(connection.pk)


def test_a_code_exchanged_without_the_right_verifier_is_refused(owner_client, google):
    response = owner_client.get(reverse("connectors:google-start"))
    session = owner_client.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "code_verifier": "x" * 64}
    session.save()
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    response = owner_client.get(f"{callback.path}?{callback.query}")
    assert response["Location"] == reverse("connectors:index")
    assert "Google did not accept the sign-in" in said(response)
    assert not Connection.objects.exists()


def test_the_queued_first_sync_runs_through_the_background_home(
    owner_client, google, django_capture_on_commit_callbacks
):
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    outcome = connection_sync_run(connection_id=connection.pk)
    assert outcome.state == "succeeded", outcome
    assert outcome.detail.startswith("2 calendars synced: 4 added")
    page = owner_client.get(reverse("connectors:detail", args=[connection.pk])).content.decode()
    assert "Holidays in France" in page and "2 calendars synced" in page
