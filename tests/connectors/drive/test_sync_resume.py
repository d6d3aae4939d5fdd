"""A drive sync that dies part-way (the process stops in the middle of a download)
resumes at the next sync without embedding again what it had stored: each embedding
batch's documents are committed before the next file is read, and a file whose revision
is stored is not read again. Counted with a counter around the real embedder."""

from __future__ import annotations

import pytest
from celery.exceptions import SoftTimeLimitExceeded

from assistant.background.models import TaskRun
from assistant.background.syncs import connection_sync_run
from connectors.documents.models import Document, DocumentChunk
from connectors.services import files as file_sync
from connectors.webdav.kind import WebDavKind
from tests.connectors.drive.conftest import connect, sync

pytestmark = pytest.mark.django_db


real_download = WebDavKind.download


class WorkerDied(BaseException):
    """Stands for the worker going away mid-download (not an error a file can absorb)."""


def dies_downloading(monkeypatch, name: str) -> None:
    """The download of `name` starts, then the process dies in the middle of it."""

    def download(self, session, source, file):
        blocks = real_download(self, session, source, file)
        if file.name != name:
            return blocks

        def broken():
            yield next(iter(blocks))
            raise WorkerDied

        return broken()

    monkeypatch.setattr(WebDavKind, "download", download)


def stored_texts(owner) -> set[str]:
    return set(DocumentChunk.objects.owned_by(owner).values_list("text", flat=True))


@pytest.mark.parametrize("batch", [2, file_sync.EMBED_BATCH_CHUNKS])
def test_a_sync_dying_mid_download_resumes_without_embedding_stored_passages(
    owner, dav, embedded, monkeypatch, batch
):
    monkeypatch.setattr(file_sync, "EMBED_BATCH_CHUNKS", batch)
    names = [f"note{number}.txt" for number in range(6)]
    for number, name in enumerate(names):
        dav.write(name, f"Note {number}: the apples of row {number} are picked in week {number}.")
    connection = connect(owner, dav)
    dies_downloading(monkeypatch, "note4.txt")

    with pytest.raises(WorkerDied):
        sync(connection)

    indexed = set(
        Document.objects.owned_by(owner)
        .filter(status=Document.Status.INDEXED)
        .values_list("path", flat=True)
    )
    first_stored = stored_texts(owner)
    if batch == 2:  # one passage a file: a batch is stored every two files
        assert indexed == {"note0.txt", "note1.txt", "note2.txt", "note3.txt"}
    else:  # one batch for all: nothing was embedded before the crash, nothing stored
        assert indexed == set() and not embedded
    # Nothing half-stored: every indexed file has all its passages, each with a vector.
    assert len(first_stored) == len(indexed)
    assert not DocumentChunk.objects.filter(embedding__isnull=True).exists()
    assert set(embedded) == first_stored

    monkeypatch.setattr(WebDavKind, "download", real_download)  # the worker is back
    embedded.clear()
    before = len(dav.requests)
    report = sync(connection)

    # Only what was not stored is read and embedded; nothing stored is embedded again.
    read = sorted(
        path.rsplit("/", 1)[-1] for method, path, _ in dav.requests[before:] if method == "GET"
    )
    assert read == sorted(set(names) - indexed)
    assert not set(embedded) & first_stored
    assert len(embedded) == len(names) - len(indexed) == report.chunks_embedded
    assert (report.indexed, report.unchanged) == (len(names) - len(indexed), len(indexed))
    assert stored_texts(owner) == first_stored | set(embedded)
    assert Document.objects.filter(status=Document.Status.INDEXED).count() == len(names)


def test_the_workers_time_limit_stops_the_sync_and_the_next_goes_on(
    owner, dav, embedded, monkeypatch, settings
):
    """The soft time limit may fire while a file downloads: it stops the sync (not just
    that file, which would be wrongly marked failed), with what was stored kept."""
    settings.CELERY_TASK_SOFT_TIME_LIMIT = 840
    monkeypatch.setattr(file_sync, "EMBED_BATCH_CHUNKS", 1)
    for number in range(4):
        dav.write(f"note{number}.txt", f"Note {number}: pears of row {number}.")
    connection = connect(owner, dav)
    real = WebDavKind.download

    def download(self, session, source, file):
        blocks = real(self, session, source, file)
        if file.name != "note2.txt":
            return blocks

        def limited():  # the limit fires inside the download's read loop
            yield next(iter(blocks))
            raise SoftTimeLimitExceeded()

        return limited()

    monkeypatch.setattr(WebDavKind, "download", download)
    outcome = connection_sync_run(connection_id=connection.pk)

    assert outcome.state == TaskRun.State.FAILED
    assert outcome.problems == [
        "Stopped at the worker's time limit (840 s) with 2 of 4 files read. What was read "
        "is kept; the next sync carries on from there."
    ]
    statuses = dict(Document.objects.owned_by(owner).values_list("path", "status"))
    assert statuses == {"note0.txt": "indexed", "note1.txt": "indexed",
                        "note2.txt": "pending", "note3.txt": "pending"}  # fmt: skip
    run = TaskRun.objects.get(connection_id=connection.pk)
    assert run.state == TaskRun.State.FAILED and "time limit" in run.error
    connection.refresh_from_db()
    assert connection.last_sync_at is None and not connection.sync_claimed_by  # due again

    monkeypatch.setattr(WebDavKind, "download", real)
    embedded.clear()
    report = sync(connection)
    assert (report.indexed, report.unchanged, len(embedded)) == (2, 2, 2)
