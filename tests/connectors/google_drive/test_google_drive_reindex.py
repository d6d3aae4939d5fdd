"""Re-index on a Google Drive connection: its next sync reads only the changes feed,
which says nothing of a file the user asked to read again; the request makes that
folder list its whole tree once, so the file is read (and only it)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.documents.models import Document
from connectors.services.connections import sources_include
from tests.connectors.google_drive.conftest import connect, sync

pytestmark = pytest.mark.django_db


def test_reindex_reads_the_file_again_despite_an_empty_changes_feed(
    owner_client, drive, django_capture_on_commit_callbacks, syncs
):
    projects = drive.folder("Projects")
    drive.put("notes.txt", projects, content="Tomatoes need six hours of sun.")
    drive.put("plan.txt", projects, content="The launch is in March.")
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    sources_include(
        connection=connection, included_ids=[connection.sources.get(name="Projects").pk]
    )
    sync(connection)
    assert sync(connection).downloads == 0  # nothing changed: the feed is empty
    notes = Document.objects.get(connection=connection, path="notes.txt")
    url = reverse("connectors:file-reindex", args=[connection.pk, notes.pk])
    assert owner_client.post(url).status_code == 302 and syncs == [connection.pk]
    report = sync(connection)
    assert (report.downloads, report.indexed) == (1, 1)
    notes.refresh_from_db()
    assert notes.status == "indexed" and notes.revision
    assert sync(connection).downloads == 0  # back to the feed alone
