"""A WsgiDAV server per test over its own temporary folder, and the steps every drive
test takes: connect, sync, count what was embedded."""

from __future__ import annotations

import pytest

from connectors.models import Connection
from connectors.services import files as file_sync
from connectors.services.connections import connection_create
from connectors.services.sync import connection_sync
from connectors.webdav.kind import WebDavKind
from tests.connectors.drive.dav_server import dav_server

KIND = WebDavKind()


@pytest.fixture
def dav(tmp_path):
    with dav_server(tmp_path / "files") as server:
        yield server


@pytest.fixture
def dav_finite(tmp_path):
    """A server that refuses PROPFIND Depth: infinity, as Nextcloud does by default."""
    with dav_server(tmp_path / "files", finite_depth=True) as server:
        yield server


def connect(owner, server) -> Connection:
    connected = KIND.connect(
        {"url": server.url, "username": server.username, "password": server.password}
    )
    return connection_create(owner=owner, kind=KIND.slug, connected=connected)


def sync(connection: Connection, **kwargs) -> file_sync.FileSyncReport:
    connection.refresh_from_db()
    report = connection_sync(connection=connection, **kwargs)
    assert isinstance(report, file_sync.FileSyncReport)
    return report


@pytest.fixture
def embedded(monkeypatch) -> list[str]:
    """Every text handed to the (real) embedder by the file sync, in order."""
    texts: list[str] = []
    real = file_sync.embed_texts

    def counting(batch, **kwargs):
        texts.extend(batch)
        return real(batch, **kwargs)

    monkeypatch.setattr(file_sync, "embed_texts", counting)
    return texts
