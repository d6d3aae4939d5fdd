"""Drive sync when things go wrong: files that cannot be read, folders that vanish
during a sync, a sync killed half-way, a password changed on the server; and whose
documents a query sees."""

from __future__ import annotations

import shutil

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db.models.functions import Cast
from pgvector import HalfVector
from pgvector.django import CosineDistance, HalfVectorField

from assistant.background.syncs import connection_sync_run
from connectors.base import PermanentError
from connectors.crypto import secrets_encrypt
from connectors.documents.models import Document, DocumentChunk
from connectors.models import Connection
from connectors.services import files as file_sync
from connectors.services.connections import sources_include
from memory.embedding import embed_query
from tests.connectors.documents.files import write_scanned_pdf
from tests.connectors.drive.conftest import connect, sync

pytestmark = pytest.mark.django_db


class WorkerKilled(Exception):
    """Stands for the process dying between two files."""


def statuses(owner) -> dict[str, tuple[str, str]]:
    return {d.path: (d.status, d.skip_reason) for d in Document.objects.owned_by(owner)}


def test_files_that_cannot_be_read_are_skipped_with_their_reason(owner, dav, settings):
    settings.DOCUMENT_MAX_BYTES = 64 * 1024
    dav.write("big.txt", "word " * 20_000)  # 100 kB
    dav.write("photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)
    write_scanned_pdf(dav.path("Scans/receipt.pdf"))
    dav.write("Scans/ok.txt", "Readable text about apples.")
    connection = connect(owner, dav)
    report = sync(connection)
    assert statuses(owner) == {
        "big.txt": ("skipped", "too_large"),
        "photo.png": ("skipped", "unsupported_type"),
        "Scans/receipt.pdf": ("skipped", "no_text"),
        "Scans/ok.txt": ("indexed", ""),
    }
    assert (report.skipped, report.indexed, report.failed) == (3, 1, 0)
    big = Document.objects.get(path="big.txt")
    assert "DOCUMENT_MAX_BYTES" in big.skip_message and big.chunk_count == 0
    assert not DocumentChunk.objects.filter(document__status="skipped").exists()
    downloaded = {path for method, path, _ in dav.requests if method == "GET"}
    assert not any(path.endswith("big.txt") for path in downloaded)  # refused by its size
    before = len(dav.requests)
    again = sync(connection)
    assert again.unchanged == 4 and again.downloads == 0  # skipped until they change
    assert all(method == "PROPFIND" for method, _, _ in dav.requests[before:])


def test_a_folder_vanishing_during_the_sync_costs_only_its_files(owner, dav):
    for path in ("A/one.txt", "B/two.txt", "B/three.txt", "C/four.txt"):
        dav.write(path, f"The file {path} is here.")
    connection = connect(owner, dav)

    def remove_b(done, total):
        if done == 0:  # listed already; B goes before its files are read
            shutil.rmtree(dav.path("B"))

    report = sync(connection, progress=remove_b)
    assert statuses(owner) == {"A/one.txt": ("indexed", ""), "C/four.txt": ("indexed", "")}
    assert (report.files, report.indexed, report.failed, report.problems) == (4, 2, 0, [])
    connection.refresh_from_db()
    assert not connection.is_paused
    after = sync(connection)
    assert (after.files, after.unchanged, after.downloads) == (2, 2, 0)


def test_a_chosen_folder_vanishing_during_the_sync_is_forgotten(owner, dav):
    dav.write("A/one.txt", "Alpha notes.")
    dav.write("B/two.txt", "Beta notes.")
    connection = connect(owner, dav)
    chosen = list(connection.sources.exclude(name="All files").values_list("pk", flat=True))
    sources_include(connection=connection, included_ids=chosen)

    def remove_b(done, total):
        if dav.path("B").exists():
            shutil.rmtree(dav.path("B"))  # while A's files are read

    report = sync(connection, progress=remove_b)
    assert statuses(owner) == {"A/one.txt": ("indexed", "")}
    assert report.problems == [
        "The folder 'B' is no longer on the server. It was deleted, moved or unshared: "
        "choose folders again on the connections page."
    ]
    assert connection.sources.get(name="B").gone_at is not None


def test_a_chosen_folder_removed_between_syncs_takes_its_files(owner, dav):
    dav.write("Notes/a.txt", "Some notes.")
    dav.write("Other/b.txt", "Other things.")
    connection = connect(owner, dav)
    notes = connection.sources.get(name="Notes")
    sources_include(connection=connection, included_ids=[notes.pk])
    sync(connection)
    assert set(statuses(owner)) == {"Notes/a.txt"}
    shutil.rmtree(dav.path("Notes"))
    report = sync(connection)
    assert statuses(owner) == {}
    assert report.problems == ["Folder 'Notes' is gone from the server: its files were removed."]


def test_a_sync_killed_half_way_resumes_without_embedding_again(owner, dav, embedded, monkeypatch):
    monkeypatch.setattr(file_sync, "EMBED_BATCH_CHUNKS", 1)  # each file stored once read
    for number in range(4):
        dav.write(f"file{number}.txt", f"Note number {number} about the harvest.")
    connection = connect(owner, dav)

    def killed(done, total):
        if done == 2:
            raise WorkerKilled

    with pytest.raises(WorkerKilled):
        sync(connection, progress=killed)
    stored = {p for p, (status, _) in statuses(owner).items() if status == "indexed"}
    assert stored == {"file0.txt", "file1.txt"} and len(embedded) == 2
    embedded.clear()
    before = len(dav.requests)
    report = sync(connection)
    assert (report.indexed, report.unchanged, report.downloads) == (2, 2, 2)
    assert len(embedded) == 2
    fetched = [path for method, path, _ in dav.requests[before:] if method == "GET"]
    assert [path.rsplit("/", 1)[-1] for path in fetched] == ["file2.txt", "file3.txt"]


def test_a_password_changed_on_the_server_pauses_the_connection(owner, dav):
    dav.write("a.txt", "Something to read.")
    connection = connect(owner, dav)
    Connection.objects.filter(pk=connection.pk).update(
        secrets_encrypted=secrets_encrypt({"password": "the-old-one"})
    )
    with pytest.raises(PermanentError) as caught:
        sync(connection)
    assert caught.value.status == 401
    outcome = connection_sync_run(connection_id=connection.pk)
    assert outcome.state == "failed" and "wrong user name or password" in outcome.problems[0]
    connection.refresh_from_db()
    assert connection.is_paused and "HTTP 401" in connection.paused_reason


def test_a_background_run_syncs_a_drive(owner, dav):
    dav.write("Notes/a.txt", "Apples are kept in the cellar.")
    connection = connect(owner, dav)
    outcome = connection_sync_run(connection_id=connection.pk)
    assert outcome.state == "succeeded"
    assert outcome.detail.startswith("1 folder synced, 1 file: 1 indexed,")
    connection.refresh_from_db()
    assert connection.last_sync_summary == outcome.detail
    assert Document.objects.owned_by(owner).get().status == "indexed"


def test_documents_are_seen_by_their_owner_only(owner, outsider, dav):
    dav.write("garden.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May.")
    dav.write("car.txt", "The car's tyres are changed in October.")
    sync(connect(owner, dav))
    words = SearchQuery("tomatoes", config="english")
    assert DocumentChunk.objects.owned_by(owner).filter(search=words).count() == 1
    assert not DocumentChunk.objects.owned_by(outsider).filter(search=words).exists()
    assert not Document.objects.owned_by(outsider).exists()
    query = embed_query("when should I change my tyres?").tolist()
    field = HalfVectorField(dimensions=len(query))
    nearest = (
        DocumentChunk.objects.owned_by(owner)
        .annotate(distance=CosineDistance(Cast("embedding", field), HalfVector(query)))
        .order_by("distance")
        .first()
    )
    assert nearest is not None and nearest.document.path == "car.txt"
    assert not DocumentChunk.objects.owned_by(outsider).exists()
