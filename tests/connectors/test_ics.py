"""The ICS subscription kind against a real feed server on loopback."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.base import PermanentError, TransientError
from connectors.ics.forms import IcsForm
from connectors.ics.kind import url_masked
from connectors.models import Connection, Event
from connectors.registry import kinds
from connectors.services.connections import connection_create
from connectors.services.sync import connection_sync, connection_sync_failed
from inference.local_server import free_port
from tests.connectors.fake_feed import FakeFeedServer, Page, calendar, day, vevent

PATH = "/team.ics"
STANDUP = vevent("standup-1", "Standup", extra="RRULE:FREQ=DAILY;COUNT=3")
OFFSITE = vevent("offsite-1", "Offsite", start=f"{day(20)}T090000Z", end=f"{day(20)}T170000Z")


@pytest.fixture
def feed():
    with FakeFeedServer() as server:
        server.pages[PATH] = Page(body=calendar(STANDUP, OFFSITE))
        yield server


def ics():
    return kinds()["ics"]


def subscribe(owner, url: str, name: str = "") -> Connection:
    return connection_create(
        owner=owner, kind="ics", connected=ics().connect({"url": url, "name": name})
    )


def titles(connection: Connection) -> list[str]:
    return sorted(Event.objects.filter(connection=connection).values_list("title", flat=True))


def test_first_sync_stores_every_event_named_from_the_feed(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    assert connection.label == "Team holidays"
    assert connection.display_url == f"{feed.base_url}/team.ics"
    report = connection_sync(connection=connection)
    assert titles(connection) == ["Offsite", "Standup", "Standup", "Standup"]
    assert report.requests == 1
    assert report.added == 4
    assert feed.requests[PATH] == 2  # the test at connect, the sync


def test_a_given_name_wins_over_the_feeds(owner, feed):
    connection = subscribe(owner, feed.url(PATH), name="Work")
    assert connection.label == "Work"
    assert connection.sources.get().name == "Work"


def test_unchanged_feed_is_one_conditional_request_answered_304(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    connection_sync(connection=connection)
    ids = set(Event.objects.values_list("id", flat=True))
    report = connection_sync(connection=connection)
    assert report.requests == 1
    assert feed.conditional[PATH] == 1
    assert (report.added, report.updated, report.removed) == (0, 0, 0)
    assert set(Event.objects.values_list("id", flat=True)) == ids


def test_a_feed_without_validators_is_unchanged_by_its_hash(owner, feed):
    feed.pages[PATH].validators = False
    connection = subscribe(owner, feed.url(PATH))
    connection_sync(connection=connection)
    report = connection_sync(connection=connection)
    assert feed.conditional[PATH] == 0
    assert (report.added, report.updated, report.removed) == (0, 0, 0)


def test_changed_feed_updates_the_event_in_place(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    connection_sync(connection=connection)
    offsite = Event.objects.get(title="Offsite")
    feed.pages[PATH] = Page(body=calendar(STANDUP, OFFSITE.replace("Offsite", "Offsite in Lyon")))
    report = connection_sync(connection=connection)
    assert report.updated == 1
    assert Event.objects.get(pk=offsite.pk).title == "Offsite in Lyon"


def test_an_event_removed_from_the_feed_is_removed(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    connection_sync(connection=connection)
    feed.pages[PATH] = Page(body=calendar(OFFSITE))
    report = connection_sync(connection=connection)
    assert report.removed == 3
    assert titles(connection) == ["Offsite"]


def test_a_malformed_event_is_skipped_with_its_reason_and_the_rest_kept(owner, feed):
    broken_date = vevent("bad-1", "Broken date", start="not-a-date")
    no_uid = "\r\n".join(["BEGIN:VEVENT", "DTSTART:20300301T100000Z", "SUMMARY:Anonymous",
                          "END:VEVENT"])  # fmt: skip
    never_ends = "BEGIN:VEVENT\r\nUID:open-1\r\nSUMMARY:Never ends"
    feed.pages[PATH] = Page(body=calendar(OFFSITE, broken_date, no_uid, never_ends, STANDUP))
    connection = subscribe(owner, feed.url(PATH))
    report = connection_sync(connection=connection)
    assert titles(connection) == ["Offsite", "Standup", "Standup", "Standup"]
    problems = " ".join(report.problems)
    assert "'Broken date' (bad-1)" in problems and "DTSTART" in problems
    assert "'Anonymous'" in problems and "no UID" in problems
    assert "never end" in problems
    assert connection.sources.get().problems == report.problems


@pytest.mark.parametrize("with_length", [False, True], ids=["streamed", "declared"])
def test_a_50_mb_feed_is_refused_without_reading_it_all(owner, feed, settings, with_length):
    settings.CONNECTOR_MAX_FEED_BYTES = 64 * 1024
    connection = subscribe(owner, feed.url(PATH))
    if with_length:
        feed.pages[PATH] = Page(body=calendar(OFFSITE, "X-PADDING:" + "x" * 100_000))
    else:
        feed.pages[PATH] = Page(stream_bytes=50 * 1024 * 1024)
    with pytest.raises(PermanentError) as caught:
        connection_sync(connection=connection)
    assert "feed is larger than 64 KB" in caught.value.message
    assert "CONNECTOR_MAX_FEED_BYTES" in caught.value.hint
    assert feed.streamed < 50 * 1024 * 1024


def test_an_html_page_is_not_a_calendar_feed(owner, feed):
    feed.pages["/page"] = Page(body=b"<!DOCTYPE html><html><body>My calendar</body></html>",
                               content_type="text/html")  # fmt: skip
    with pytest.raises(PermanentError, match="web page, not a calendar feed") as caught:
        ics().connect({"url": feed.url("/page")})
    assert ".ics" in caught.value.hint
    feed.pages["/text"] = Page(body=b"hello", content_type="text/plain")
    with pytest.raises(PermanentError, match="not return a calendar feed"):
        ics().connect({"url": feed.url("/text")})


def test_a_feed_that_disappears_pauses_the_connection(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    del feed.pages[PATH]
    with pytest.raises(PermanentError, match="HTTP 404") as caught:
        connection_sync(connection=connection)
    connection_sync_failed(connection=connection, error=caught.value)
    connection.refresh_from_db()
    assert connection.is_paused
    assert "HTTP 404" in connection.paused_reason


@pytest.mark.parametrize("status", [401, 403, 410])
def test_refused_or_gone_is_permanent(feed, status):
    feed.pages[PATH].status = status
    with pytest.raises(PermanentError, match=f"HTTP {status}"):
        ics().connect({"url": feed.url(PATH)})


def test_a_server_error_is_transient_and_keeps_the_connection_active(owner, feed):
    connection = subscribe(owner, feed.url(PATH))
    feed.pages[PATH] = Page(body=b"oops", status=503)
    with pytest.raises(TransientError, match="HTTP 503") as caught:
        connection_sync(connection=connection)
    connection_sync_failed(connection=connection, error=caught.value)
    connection.refresh_from_db()
    assert not connection.is_paused
    assert "HTTP 503" in connection.last_error


def test_connection_refused_is_transient_with_a_hint():
    url = f"http://127.0.0.1:{free_port()}/cal.ics"
    with pytest.raises(TransientError, match="could not be reached") as caught:
        ics().connect({"url": url})
    assert caught.value.hint


def test_webcal_is_fetched_over_https_and_a_tls_failure_is_permanent(feed):
    form = IcsForm(data={"url": f"webcal://127.0.0.1:{feed.httpd.server_address[1]}{PATH}"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["url"] == f"https://127.0.0.1:{feed.httpd.server_address[1]}{PATH}"
    # the fake speaks plain HTTP, so the https:// fetch fails its TLS handshake
    with pytest.raises(PermanentError, match="TLS") as caught:
        ics().connect(form.cleaned_data)
    assert "certificate" in caught.value.hint


@pytest.mark.parametrize(
    "url", ["ftp://example.com/cal.ics", "https://user:pw@example.com/cal.ics", "calendar"]
)
def test_the_form_refuses_what_is_not_a_feed_address(url):
    form = IcsForm(data={"url": url})
    assert not form.is_valid()
    assert form.errors["url"]


def test_private_addresses_are_refused_when_the_server_forbids_them(settings, feed):
    settings.CONNECTOR_ALLOW_PRIVATE_ADDRESSES = False
    form = IcsForm(data={"url": feed.url(PATH)})
    assert not form.is_valid()
    assert "own network" in form.errors["url"][0]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://calendar.google.com/calendar/ical/me%40x.com/private-3f9a/basic.ics",
         "https://calendar.google.com/…/basic.ics"),
        ("https://example.com/holidays.ics", "https://example.com/holidays.ics"),
        ("https://example.com/feed?token=secret", "https://example.com/feed?…"),
        ("https://example.com/" + "a" * 64, "https://example.com/…"),
    ],
)  # fmt: skip
def test_the_shown_address_hides_secret_parts(url, shown):
    assert url_masked(url) == shown


def test_a_feed_without_a_charset_is_read_as_utf8(owner, feed):
    body = calendar(vevent("cafe-1", "Café crème"), name="Réunions")
    feed.pages[PATH] = Page(body=body, content_type="text/calendar")
    connection = subscribe(owner, feed.url(PATH))
    assert connection.label == "Réunions"
    connection_sync(connection=connection)
    assert titles(connection) == ["Café crème"]


def test_adding_a_subscription_on_the_connections_page(owner_client, feed):
    add = reverse("connectors:add", args=["ics"])
    webcal = feed.url(PATH).replace("http://", "webcal://")
    response = owner_client.post(add, {"url": webcal, "name": ""})
    assert response.status_code == 400  # webcal means https, and the fake speaks http
    assert "TLS" in response.content.decode()
    response = owner_client.post(add, {"url": feed.url("/missing.ics"), "name": ""})
    assert response.status_code == 400
    assert "HTTP 404" in response.content.decode()
    response = owner_client.post(add, {"url": feed.url(PATH), "name": "Work"})
    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:detail", args=[connection.pk])
    assert connection.label == "Work" and connection.kind == "ics"
