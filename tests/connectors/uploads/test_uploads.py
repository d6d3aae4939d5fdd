"""Uploads: files added from the browser are kept under UPLOADS_ROOT (generated names,
the given name only as metadata), indexed by the same drive sync as WebDAV's, found by
the chat's search, deleted at once, and never seen or touched by another user."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from connectors.documents.models import Document, DocumentChunk
from connectors.documents.search import document_search
from connectors.models import Connection
from connectors.services.disconnect import connection_disconnect
from connectors.services.sync import connection_sync
from connectors.uploads import storage
from connectors.uploads.services import upload_add, uploads_connection_get_or_create

pytestmark = pytest.mark.django_db

GARDEN = b"# Garden\n\nTomatoes need six hours of sun.\n\nBasil goes out in May."
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2


@pytest.fixture(autouse=True)
def uploads_root(settings, tmp_path) -> Path:
    settings.UPLOADS_ROOT = tmp_path / "uploads"
    return settings.UPLOADS_ROOT


def upload(client, *files: tuple[str, bytes], content_type: str = "text/plain", **extra):
    posted = [SimpleUploadedFile(name, body, content_type=content_type) for name, body in files]
    return client.post(reverse("connectors:uploads-add"), {"files": posted}, **extra)


def uploads_of(user) -> Connection:
    return Connection.objects.get(owner=user, kind="uploads")


def stored_names(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_an_upload_is_indexed_by_the_drive_sync_and_found_by_the_chat_search(
    owner, owner_client, syncs
):
    response = upload(owner_client, ("garden notes.md", GARDEN))
    connection = uploads_of(owner)
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:files", args=[connection.pk])
    assert syncs == [connection.pk]  # a sync was queued
    document = Document.objects.get(connection=connection)
    assert (document.path, document.status) == ("garden notes.md", Document.Status.PENDING)
    report = connection_sync(connection=connection)
    assert (report.files, report.indexed) == (1, 1)
    document.refresh_from_db()
    assert document.status == Document.Status.INDEXED and document.chunk_count >= 1
    found = document_search(owner=owner, query="when does basil go out", limit=3)
    assert found and found[0].chunk.document_id == document.pk
    assert "Basil" in found[0].chunk.text
    # Unchanged at the next sync: nothing downloaded again.
    again = connection_sync(connection=connection)
    assert (again.unchanged, again.downloads) == (1, 0)
    page = owner_client.get(reverse("connectors:files", args=[connection.pk])).content.decode()
    assert "garden notes.md" in page and "Add files" in page and ">Delete</button>" in page


def test_several_files_at_once_make_one_connection_and_one_sync(owner, owner_client, syncs):
    upload(owner_client, ("a.txt", b"Alpha notes."), ("b.txt", b"Bravo notes."))
    upload(owner_client, ("c.txt", b"Charlie notes."))
    connection = uploads_of(owner)
    assert Connection.objects.filter(owner=owner, kind="uploads").count() == 1
    assert connection.sources.get().name == "Uploads"
    connection_sync(connection=connection)
    indexed = Document.objects.filter(connection=connection, status=Document.Status.INDEXED)
    assert sorted(indexed.values_list("path", flat=True)) == ["a.txt", "b.txt", "c.txt"]


def test_uploading_a_name_again_replaces_that_file(owner, owner_client, syncs):
    upload(owner_client, ("notes.txt", b"The old boiler code is 1234."))
    connection = uploads_of(owner)
    connection_sync(connection=connection)
    upload(owner_client, ("notes.txt", b"The new alarm code is 9876."))
    connection_sync(connection=connection)
    document = Document.objects.get(connection=connection)
    texts = " ".join(DocumentChunk.objects.filter(document=document).values_list("text", flat=True))
    assert "9876" in texts and "1234" not in texts
    assert len(storage.files_list(owner.pk)) == 1


def test_too_large_empty_and_unsupported_files_are_refused_with_reasons(
    owner, owner_client, settings, uploads_root, syncs
):
    settings.DOCUMENT_MAX_BYTES = 1024
    response = upload(
        owner_client, ("big.txt", b"word " * 400), ("empty.txt", b""), ("photo.png", PNG),
        ("fine.txt", b"Small and readable."), follow=True,
    )  # fmt: skip
    body = response.content.decode()
    assert "big.txt was not added: Files up to 1.0 KB are read (DOCUMENT_MAX_BYTES)" in body
    assert "empty.txt was not added: This file is empty" in body
    assert "photo.png was not added: This file is a PNG image" in body
    assert "fine.txt added, indexing…" in body
    paths = Document.objects.filter(owner=owner).values_list("path", flat=True)
    assert list(paths) == ["fine.txt"]
    assert len(stored_names(uploads_root)) == 2  # fine.txt and its sidecar; no part files


def test_a_body_longer_than_it_said_is_cut_off_at_the_limit(owner, settings, uploads_root):
    settings.DOCUMENT_MAX_BYTES = 2048
    connection = uploads_connection_get_or_create(owner=owner)
    blocks = (b"x" * 1000 for _ in range(5))
    outcome = upload_add(connection=connection, name="stream.txt", blocks=blocks, size=None)
    assert not outcome.added and "DOCUMENT_MAX_BYTES" in outcome.message
    assert stored_names(uploads_root) == []


def test_nothing_chosen_is_said(owner, owner_client):
    response = owner_client.post(reverse("connectors:uploads-add"), follow=True)
    assert "Choose a file to upload." in response.content.decode()
    assert not Connection.objects.filter(owner=owner).exists()


def test_a_hostile_name_is_only_metadata(owner, uploads_root):
    connection = uploads_connection_get_or_create(owner=owner)
    long_name = "é" * 300 + "🙂" * 300 + ".txt"
    for name in ("../../etc/passwd.txt", "..\\..\\boot.ini.txt", long_name, "\x00.txt", ".."):
        outcome = upload_add(connection=connection, name=name, blocks=[b"Some text."], size=10,
                             content_type="text/plain")  # fmt: skip
        assert outcome.added, outcome
    names = {stored.name for stored in storage.files_list(owner.pk)}
    assert "passwd.txt" in names and "boot.ini.txt" in names and "unnamed" in names
    cut = next(name for name in names if name.startswith("é"))
    assert len(cut) == storage.MAX_NAME_CHARS and cut.endswith(".txt")
    for path in stored_names(uploads_root):  # all inside the owner's folder, named by us
        folder, file = path.split("/")
        assert folder == str(owner.pk)
        assert storage._is_key(file.removesuffix(".json"))
    assert not (uploads_root.parent / "etc").exists()


def test_a_hostile_name_over_http_is_stored_safely(owner, owner_client, uploads_root, syncs):
    upload(owner_client, ("../../etc/passwd", b"root:x:0:0"))
    document = Document.objects.get(owner=owner)
    assert document.path == "passwd"  # Django keeps the last part; the bytes are text
    assert storage.file_path(owner.pk, document.remote_id) is not None
    assert storage.file_path(owner.pk, "../../etc/passwd") is None


def test_delete_removes_the_file_its_row_and_passages_at_once(
    owner, owner_client, uploads_root, syncs
):
    upload(owner_client, ("garden.md", GARDEN), ("keep.txt", b"Keep this one."))
    connection = uploads_of(owner)
    connection_sync(connection=connection)
    document = Document.objects.get(path="garden.md")
    assert DocumentChunk.objects.filter(document=document).exists()
    url = reverse("connectors:file-delete", args=[connection.pk, document.pk])
    body = owner_client.post(url, follow=True).content.decode()
    assert "Deleted garden.md and its passages." in body
    assert not Document.objects.filter(pk=document.pk).exists()
    assert not DocumentChunk.objects.filter(document_id=document.pk).exists()
    assert storage.file_path(owner.pk, document.remote_id) is None
    assert [stored.name for stored in storage.files_list(owner.pk)] == ["keep.txt"]
    assert document_search(owner=owner, query="basil tomatoes", limit=3)[0].chunk.text.startswith(
        "Keep"
    )
    assert connection_sync(connection=connection).removed == 0  # nothing left to catch up


def test_another_user_can_neither_see_nor_delete(owner, outsider, outsider_client, syncs):
    connection = uploads_connection_get_or_create(owner=owner)
    upload_add(connection=connection, name="private.txt", size=None,
               blocks=[b"My bank PIN hint is the cat."])  # fmt: skip
    connection_sync(connection=connection)
    document = Document.objects.get(owner=owner)
    delete = reverse("connectors:file-delete", args=[connection.pk, document.pk])
    assert outsider_client.post(delete).status_code == 404
    files = reverse("connectors:files", args=[connection.pk])
    assert outsider_client.get(files).status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()
    assert storage.file_path(owner.pk, document.remote_id) is not None
    assert document_search(owner=outsider, query="bank PIN", limit=3) == []
    # The outsider's own upload goes to their own connection and folder.
    upload(outsider_client, ("mine.txt", b"Outsider notes."))
    assert uploads_of(outsider).pk != connection.pk
    assert [s.name for s in storage.files_list(outsider.pk)] == ["mine.txt"]


def test_only_uploads_are_deleted_here(owner, owner_client):
    from tests.document_factories import document_add, folder_create

    document = document_add(folder_create(owner), "Documents/a.txt", ["A passage."])
    url = reverse("connectors:file-delete", args=[document.connection_id, document.pk])
    assert owner_client.post(url).status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()


def test_the_chat_gets_a_notice_with_a_link(owner, owner_client, syncs):
    response = upload(owner_client, ("report.md", GARDEN), ("x.png", PNG), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    connection = uploads_of(owner)
    assert "<strong>report.md</strong> added, indexing…" in body
    assert "<strong>x.png</strong> was not added" in body
    assert reverse("connectors:files", args=[connection.pk]) in body


def test_the_uploads_page_before_and_after_the_first_upload(owner, owner_client, syncs):
    start = reverse("connectors:uploads-start")
    body = owner_client.get(start).content.decode()
    assert "No uploads yet." in body and 'enctype="multipart/form-data"' in body
    upload(owner_client, ("a.txt", b"Alpha."))
    response = owner_client.get(start)
    assert response["Location"] == reverse("connectors:files", args=[uploads_of(owner).pk])
    offers = owner_client.get(reverse("connectors:index")).content.decode()
    assert f'href="{start}"' in offers  # offered as "Uploads", with no form


def test_the_files_page_follows_the_sync_then_reloads(owner, owner_client):
    """With the real background home: the upload queues a run; the page's status line
    polls while it waits, then reloads the page once the sync has finished."""
    from assistant.background.models import TaskRun
    from assistant.background.runs import task_run_finished
    from assistant.background.syncs import connection_sync_run

    upload(owner_client, ("a.txt", b"Alpha."))
    connection = uploads_of(owner)
    url = reverse("connectors:uploads-status", args=[connection.pk])
    waiting = owner_client.get(url, HTTP_HX_REQUEST="true")
    body = waiting.content.decode()
    assert waiting.status_code == 200 and "Waiting for a worker" in body and "every 2s" in body
    run = TaskRun.objects.get(connection_id=connection.pk)
    outcome = connection_sync_run(connection_id=connection.pk, task_id=run.celery_task_id)
    task_run_finished(outcome=outcome, run=run)
    finished = owner_client.get(url + "?watching=1", HTTP_HX_REQUEST="true")
    assert finished.status_code == 286 and finished["HX-Refresh"] == "true"
    idle = owner_client.get(url, HTTP_HX_REQUEST="true")  # a page opened after: no reload
    assert idle.status_code == 286 and "HX-Refresh" not in idle
    assert Document.objects.get(connection=connection).status == Document.Status.INDEXED


def test_disconnecting_removes_the_files_themselves(owner, owner_client, uploads_root, syncs):
    upload(owner_client, ("a.txt", b"Alpha."))
    connection = uploads_of(owner)
    assert stored_names(uploads_root)
    connection_disconnect(connection=connection)
    assert stored_names(uploads_root) == []
    assert not Document.objects.filter(owner=owner).exists()


def test_changes_are_csrf_checked_posts(owner, uploads_root):
    from django.test import Client

    connection = uploads_connection_get_or_create(owner=owner)
    upload_add(connection=connection, name="a.txt", blocks=[b"Alpha."], size=6)
    document = Document.objects.get(owner=owner)
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(owner)
    delete = reverse("connectors:file-delete", args=[connection.pk, document.pk])
    assert strict.get(delete).status_code == 405
    assert strict.post(delete).status_code == 403
    refused = upload(strict, ("b.txt", b"Bravo."))
    assert refused.status_code == 403
    assert Document.objects.filter(owner=owner).count() == 1
    assert [stored.name for stored in storage.files_list(owner.pk)] == ["a.txt"]
