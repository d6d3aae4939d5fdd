"""A FakeDrive per test (a local HTTP server speaking Google's OAuth and Drive v3), and
the steps the Drive tests take: consent, sync, look at what was stored."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests
from django.urls import reverse

from connectors.documents.models import Document
from connectors.models import Connection
from connectors.services import files as file_sync
from connectors.services.sync import connection_sync
from tests.connectors.fake_google import CLIENT_ID, CLIENT_SECRET
from tests.connectors.google_drive.fake_drive import FakeDrive


@pytest.fixture
def drive(settings):
    with FakeDrive() as fake:
        settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
        settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
        settings.GOOGLE_OAUTH_AUTH_URI = fake.url("/auth")
        settings.GOOGLE_OAUTH_TOKEN_URI = fake.url("/token")
        settings.GOOGLE_OAUTH_REVOKE_URI = fake.url("/revoke")
        settings.GOOGLE_DRIVE_API_ROOT = fake.url("/")
        yield fake


def consent(client, start: str = ""):
    """Start, let the fake consent page answer, and follow it back to the callback."""
    response = client.get(start or reverse("connectors:google-drive-start"))
    assert response.status_code == 302, response
    back = requests.get(response["Location"], allow_redirects=False, timeout=10)
    callback = urlsplit(back.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def connect(client, capture) -> Connection:
    """Connect through the consent redirects; the queued first sync is left unrun."""
    with capture(execute=False):
        response = consent(client)
    connection = Connection.objects.get(kind="google_drive")
    assert response["Location"] == reverse("connectors:detail", args=[connection.pk])
    return connection


def sync(connection: Connection) -> file_sync.FileSyncReport:
    connection.refresh_from_db()
    report = connection_sync(connection=connection)
    assert isinstance(report, file_sync.FileSyncReport)
    return report


def stored(connection: Connection) -> dict[str, str]:
    """Each stored file's path and status."""
    rows = Document.objects.filter(connection=connection)
    return {row.path: row.status for row in rows}
