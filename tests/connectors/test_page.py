"""The connections page: the empty state and the "add" list, adding with a test
connection, choosing calendars, sync now and its poller, reconnect, resume, disconnect."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.urls import reverse

from assistant.background.models import TaskRun
from assistant.background.tasks import connection_sync
from connectors.models import CalendarResource, Connection, Event, Source
from tests.connectors.scripted_kind import (  # noqa: F401
    ics,
    scripted_connection,
    scripted_kind_fixture,
)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}
PASSWORD = "tr0ub4dor-and-3"
ADD = reverse("connectors:add", args=["scripted"])
FORM = {"url": "https://cal.example.org/dav/", "username": "olivia", "password": PASSWORD}


def calendars(kind) -> None:
    kind.script.calendars = {"work": "Work", "home": "Home"}
    kind.script.objects = {
        "work": {"w1.ics": ics("w1", "Standup")},
        "home": {"h1.ics": ics("h1", "Dentist"), "h2.ics": ics("h2", "Gym", days_from_now=2)},
    }


def synced(owner, kind):
    calendars(kind)
    connection = scripted_connection(owner, kind, password=PASSWORD)
    connection_sync.apply(args=(connection.pk,))
    return connection


def test_the_empty_page_explains_what_can_be_connected(owner_client, scripted_kind, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = settings.GOOGLE_OAUTH_CLIENT_SECRET = ""
    body = owner_client.get(reverse("connectors:index")).content.decode()
    assert "Nothing connected yet." in body and "what do I have on Thursday?" in body
    assert "Scripted calendar" in body and "A calendar server that the test scripts." in body
    assert f'href="{ADD}"' in body
    # A kind this server cannot offer says how to fix that, without a Connect button.
    assert "Not configured on this server: Set GOOGLE_OAUTH_CLIENT_ID" in body
    assert reverse("connectors:google-start") not in body


def test_an_oauth_kind_links_to_its_start_view(owner_client, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "id", "secret"
    body = owner_client.get(reverse("connectors:index")).content.decode()
    assert f'href="{reverse("connectors:google-start")}"' in body
    response = owner_client.get(reverse("connectors:add", args=["google_calendar"]))
    assert response.status_code == 302 and response["Location"].endswith("/google/start")


def test_an_unknown_kind_is_404(owner_client):
    assert owner_client.get(reverse("connectors:add", args=["gopher"])).status_code == 404


def test_a_failed_test_connection_names_the_address_and_the_answer(owner_client, scripted_kind):
    scripted_kind.script.connect_error = {
        "permanent": True,
        "message": "The server refused the user name or password.",
        "url": "https://cal.example.org/dav/",
        "status": 401,
        "hint": "Use an app password if your account has two-step sign-in.",
    }
    response = owner_client.post(ADD, FORM)
    body = response.content.decode()
    assert response.status_code == 400
    assert "Could not connect:</strong> The server refused the user name or password." in body
    assert "Address tried: <code>https://cal.example.org/dav/</code>" in body
    assert "The server answered: HTTP 401" in body and "Use an app password" in body
    assert PASSWORD not in body  # the password field is not filled in again
    assert 'value="olivia"' in body and not Connection.objects.exists()


def test_form_errors_are_shown_next_to_their_fields(owner_client, scripted_kind):
    response = owner_client.post(ADD, {**FORM, "url": "not an address", "password": ""})
    body = response.content.decode()
    assert response.status_code == 400 and "Enter a valid URL." in body
    assert "This field is required." in body and scripted_kind.script.calls == []


def test_a_good_test_connection_creates_it_and_starts_the_first_sync(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    calendars(scripted_kind)
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(ADD, FORM)
    connection = Connection.objects.get(owner=owner)
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:detail", args=[connection.pk])
    assert len(callbacks) == 1
    run = TaskRun.objects.get(connection=connection)
    assert (run.kind, run.state) == ("sync", "queued")
    assert set(connection.sources.values_list("name", "included")) == {
        ("Work", True), ("Home", True)
    }  # fmt: skip

    page = owner_client.get(response["Location"]).content.decode()
    assert "the first sync has started" in page and "Waiting to sync" in page
    assert 'hx-trigger="every 2s"' in page and "Waiting for a worker" in page


def test_the_progress_poller_stops_itself_when_the_sync_is_done(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    calendars(scripted_kind)
    connection = scripted_connection(owner, scripted_kind)
    status = reverse("connectors:status", args=[connection.pk])
    with django_capture_on_commit_callbacks():
        owner_client.post(reverse("connectors:sync", args=[connection.pk]))
    polling = owner_client.get(status, **HX)
    assert polling.status_code == 200 and b'hx-trigger="every 2s"' in polling.content

    run = TaskRun.objects.get(connection=connection)
    connection_sync.apply(args=(connection.pk,), task_id=run.celery_task_id)

    done = owner_client.get(status, **HX)
    body = done.content.decode()
    assert done.status_code == 286 and "every 2s" not in body
    assert "3 events" in body and "2 calendars synced: 3 added" in body and "Active" in body
    # Without htmx the status URL is the detail page.
    assert owner_client.get(status).status_code == 302


def test_sync_now_enqueues_once(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    url = reverse("connectors:sync", args=[connection.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        first = owner_client.post(url)
        owner_client.post(url)
    assert first.status_code == 302 and len(callbacks) == 1
    assert TaskRun.objects.filter(connection=connection, state="queued").count() == 1
    assert owner_client.get(url).status_code == 405  # a change is a POST


def test_choosing_calendars_drops_the_events_of_the_left_out_one(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = synced(owner, scripted_kind)
    work, home = Source.objects.get(remote_id="work"), Source.objects.get(remote_id="home")
    page = owner_client.get(reverse("connectors:detail", args=[connection.pk])).content.decode()
    assert f'name="include" value="{work.pk}" checked' in page and "2 events" in page

    url = reverse("connectors:sources", args=[connection.pk])
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(url, {"include": [str(work.pk)]})
    assert callbacks == []  # nothing newly included: no sync needed
    home.refresh_from_db()
    assert not home.included and not Event.objects.filter(source=home).exists()
    assert not CalendarResource.objects.filter(source=home).exists()
    assert Event.objects.filter(source=work).count() == 1

    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(url, {"include": [str(work.pk), str(home.pk)]})
    assert len(callbacks) == 1  # the calendar taken back in is synced again


def test_a_paused_connection_shows_how_to_fix_it_and_resumes(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind)
    Connection.objects.filter(pk=connection.pk).update(
        status="paused", paused_reason="The server refused the password (HTTP 401).",
        last_error="The server refused the password (HTTP 401).",
        last_error_hint="Reconnect with your new password.",
    )  # fmt: skip
    detail = reverse("connectors:detail", args=[connection.pk])
    page = owner_client.get(detail).content.decode()
    assert "Paused:</strong> The server refused the password (HTTP 401)." in page
    assert "How to fix it: Reconnect with your new password." in page and ">Resume<" in page
    index = owner_client.get(reverse("connectors:index")).content.decode()
    assert "Paused" in index and "Reconnect with your new password." in index
    with django_capture_on_commit_callbacks() as callbacks:
        response = owner_client.post(reverse("connectors:sync", args=[connection.pk]))
    assert response.status_code == 302
    assert callbacks == []  # sync now does nothing while paused
    with django_capture_on_commit_callbacks() as callbacks:
        owner_client.post(reverse("connectors:resume", args=[connection.pk]))
    connection.refresh_from_db()
    assert connection.status == "active" and len(callbacks) == 1


def test_reconnect_asks_for_the_password_again(
    owner_client, owner, scripted_kind, django_capture_on_commit_callbacks
):
    connection = scripted_connection(owner, scripted_kind, password=PASSWORD)
    Connection.objects.filter(pk=connection.pk).update(status="paused", last_error="401")
    url = reverse("connectors:reconnect", args=[connection.pk])
    form = owner_client.get(url).content.decode()
    assert 'value="https://cal.example.org/dav/"' in form and PASSWORD not in form
    scripted_kind.script.connect_error = {"permanent": True, "message": "Still refused."}
    failed = owner_client.post(url, {**FORM, "password": "wrong"})
    assert failed.status_code == 400 and "Still refused." in failed.content.decode()
    scripted_kind.script.connect_error = None
    with django_capture_on_commit_callbacks() as callbacks:
        done = owner_client.post(url, {**FORM, "password": "n3w-passw0rd"})
    assert done.status_code == 302 and len(callbacks) == 1
    connection.refresh_from_db()
    assert connection.status == "active" and connection.last_error == ""


def test_disconnect_confirms_then_removes_everything_synced(owner_client, owner, scripted_kind):
    connection = synced(owner, scripted_kind)
    run = TaskRun.objects.create(owner=owner, kind="sync", target_label="x", connection=connection)
    url = reverse("connectors:disconnect", args=[connection.pk])
    page = owner_client.get(url).content.decode()
    assert "2 calendars, 3 events (3 calendar objects)" in page

    response = owner_client.post(url, follow=True)

    said = "Disconnected olivia at https://cal.example.org/dav/: removed 2 calendars and 3 events."
    assert said in response.content.decode()
    assert not Connection.objects.exists() and not Source.objects.exists()
    assert not CalendarResource.objects.exists() and not Event.objects.exists()
    run.refresh_from_db()
    assert run.connection_id is None  # the run's record stays
    assert scripted_kind.script.calls[-1] == "disconnect"  # the server was told


def test_disconnect_still_removes_everything_when_the_server_cannot_be_told(
    owner_client, owner, scripted_kind
):
    connection = synced(owner, scripted_kind)
    scripted_kind.script.revoke_error = "The server did not answer."
    response = owner_client.post(
        reverse("connectors:disconnect", args=[connection.pk]), follow=True
    )
    assert "The server could not be told (The server did not answer.)" in response.content.decode()
    assert not Connection.objects.exists() and not Event.objects.exists()


def test_disconnect_is_one_transaction(owner_client, owner, scripted_kind):
    """If the last delete fails, the events and calendars deleted before it come back."""
    connection = synced(owner, scripted_kind)
    with db_connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'refused'; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER refuse BEFORE DELETE ON connectors_connection "
            "FOR EACH ROW EXECUTE FUNCTION refuse();"
        )
    with pytest.raises(Exception, match="refused"):
        owner_client.post(reverse("connectors:disconnect", args=[connection.pk]))
    assert Connection.objects.filter(pk=connection.pk).exists()
    assert Source.objects.count() == 2 and Event.objects.count() == 3
    assert CalendarResource.objects.count() == 3


def test_no_page_ever_shows_a_secret(owner_client, owner, scripted_kind):
    connection = synced(owner, scripted_kind)
    connection.refresh_from_db()
    pages = [
        reverse("connectors:index"),
        reverse("connectors:detail", args=[connection.pk]),
        reverse("connectors:reconnect", args=[connection.pk]),
        reverse("connectors:disconnect", args=[connection.pk]),
    ]
    for url in pages:
        body = owner_client.get(url).content.decode()
        assert PASSWORD not in body and connection.secrets_encrypted not in body, url
    status = owner_client.get(reverse("connectors:status", args=[connection.pk]), **HX)
    assert PASSWORD not in status.content.decode()


def test_reconnecting_an_oauth_connection_goes_to_its_start_view(owner_client, owner, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "id", "secret"
    connection = Connection.objects.create(owner=owner, kind="google_calendar", label="Google")
    response = owner_client.get(reverse("connectors:reconnect", args=[connection.pk]))
    assert response.status_code == 302
    assert response["Location"] == (
        reverse("connectors:google-start") + f"?reconnect={connection.pk}"
    )
