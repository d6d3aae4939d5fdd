"""Every connectors URL for three people: the owner (allowed), an outsider (404: nothing
is revealed, nothing changes) and an anonymous visitor (sent to the sign-in page)."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from assistant.background.tasks import connection_sync
from connectors.base import Connected, RemoteSource
from connectors.documents.models import Document
from connectors.models import Connection, Event
from connectors.services.connections import connection_create
from connectors.uploads.services import uploads_connection_get_or_create
from tests.connectors.scripted_kind import (  # noqa: F401
    ics,
    scripted_connection,
    scripted_kind_fixture,
)
from tests.document_factories import document_add

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}

# (URL name, method, the owner's status). Object URLs take the connection's (or event's) pk.
OBJECT_URLS = [
    ("connectors:detail", "get", 200),
    ("connectors:status", "get", 286),
    ("connectors:sources", "post", 302),
    ("connectors:sync", "post", 302),
    ("connectors:resume", "post", 302),
    ("connectors:reconnect", "get", 200),
    ("connectors:reconnect", "post", 400),
    ("connectors:disconnect", "get", 200),
    ("connectors:disconnect", "post", 302),
    ("connectors:event", "get", 200),
    ("connectors:passage", "get", 200),
    ("connectors:files", "get", 200),
    ("connectors:file-reindex", "post", 302),
    ("connectors:file-delete", "post", 302),
    ("connectors:uploads-status", "get", 286),
]
UPLOAD_URLS = {"connectors:file-delete", "connectors:uploads-status"}  # of the owner's Uploads
DRIVE_URLS = {"connectors:files", "connectors:file-reindex"}  # of a drive connection
PLAIN_URLS = [
    ("connectors:index", [], "get"),
    ("connectors:add", ["scripted"], "get"),
    ("connectors:add", ["scripted"], "post"),
    ("connectors:google-start", [], "get"),
    ("connectors:google-drive-start", [], "get"),
    ("connectors:google-callback", [], "get"),
    ("connectors:uploads-start", [], "get"),
    ("connectors:uploads-add", [], "post"),
]


@pytest.fixture
def connection(owner, scripted_kind):
    scripted_kind.script.objects = {"work": {"w1.ics": ics("w1", "Standup")}}
    made = scripted_connection(owner, scripted_kind)
    connection_sync.apply(args=(made.pk,))
    return made


@pytest.fixture
def drive(owner, connection):
    """A WebDAV connection with one indexed file (stored as a sync stores it; no server
    is asked: these views only read and mark rows, and queue a sync)."""
    made = connection_create(
        owner=owner,
        kind="webdav",
        connected=Connected(
            label="Files", display_url="https://dav.example.org/", config={"url": "x"},
            secrets={"password": "p"}, sources=[RemoteSource(remote_id="/", name="All files")],
        ),
    )  # fmt: skip
    Document.objects.create(
        owner=owner, connection=made, source=made.sources.get(), path="notes.txt",
        remote_id="/notes.txt", revision="etag-1", status=Document.Status.INDEXED,
    )  # fmt: skip
    return made


def object_url(name: str, connection: Connection, drive: Connection) -> str:
    if name in UPLOAD_URLS:  # the owner's Uploads with one file (its row; no bytes needed)
        uploads = uploads_connection_get_or_create(owner=connection.owner)
        document = Document.objects.create(
            owner=connection.owner, connection=uploads, source=uploads.sources.get(),
            path="up.txt", remote_id="0" * 32, status=Document.Status.INDEXED,
        )  # fmt: skip
        args = [uploads.pk, document.pk] if name == "connectors:file-delete" else [uploads.pk]
        return reverse(name, args=args)
    if name == "connectors:file-reindex":
        return reverse(name, args=[drive.pk, Document.objects.get(connection=drive).pk])
    if name in DRIVE_URLS:
        return reverse(name, args=[drive.pk])
    if name == "connectors:passage":  # a passage of a file synced by this connection
        source = connection.sources.get()
        document = document_add(source, "notes.md", ["Standup notes."], web_url="")
        return reverse(name, args=[document.chunks.get().pk])
    pk = (
        Event.objects.get(connection=connection).pk if name == "connectors:event" else connection.pk
    )
    return reverse(name, args=[pk])


@pytest.mark.parametrize(("name", "method", "status"), OBJECT_URLS)
def test_the_owner_may(owner_client, connection, drive, name, method, status):
    response = getattr(owner_client, method)(object_url(name, connection, drive), **HX)
    assert response.status_code == status


@pytest.mark.parametrize(("name", "method", "status"), OBJECT_URLS)
def test_an_outsider_gets_404_and_changes_nothing(
    outsider_client, connection, drive, name, method, status
):
    response = getattr(outsider_client, method)(object_url(name, connection, drive), **HX)
    assert response.status_code == 404
    assert Connection.objects.filter(pk=connection.pk, status="active").exists()
    assert Event.objects.filter(connection=connection).count() == 1
    assert Document.objects.get(connection=drive).revision == "etag-1"


@pytest.mark.parametrize(("name", "method", "status"), OBJECT_URLS)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, connection, drive, name, method, status):
    url = object_url(name, connection, drive)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")


@pytest.mark.parametrize(("name", "args", "method"), PLAIN_URLS)
def test_an_anonymous_visitor_is_sent_to_sign_in_from_every_page(
    client, scripted_kind, name, args, method
):
    response = getattr(client, method)(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")


def test_the_list_shows_only_ones_own_connections(outsider_client, connection):
    body = outsider_client.get(reverse("connectors:index")).content.decode()
    assert connection.label not in body and "Nothing connected yet." in body


def test_changes_are_posts(owner_client, connection, drive):
    for name in ("connectors:sources", "connectors:sync", "connectors:resume"):
        assert owner_client.get(reverse(name, args=[connection.pk])).status_code == 405
    reindex = object_url("connectors:file-reindex", connection, drive)
    assert owner_client.get(reindex).status_code == 405
    assert Document.objects.get(connection=drive).revision == "etag-1"


def test_a_calendar_has_no_files_page(owner_client, connection):
    assert owner_client.get(reverse("connectors:files", args=[connection.pk])).status_code == 404


def test_changes_need_the_csrf_token(owner, connection):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    for name in ("connectors:sync", "connectors:disconnect", "connectors:sources"):
        assert strict.post(reverse(name, args=[connection.pk])).status_code == 403
    assert Connection.objects.filter(pk=connection.pk).exists()
