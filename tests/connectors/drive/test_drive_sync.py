"""Drive sync end to end: WsgiDAV, connectors.services.sync, the real embedder and the
database. What a user does in their files (add, change, touch, rename, move, delete)
shows in the index after the next sync, and costs only what it must."""

from __future__ import annotations

import os
import shutil

import pytest

from connectors.documents.models import Document, DocumentChunk
from connectors.services.connections import sources_include
from memory.embedding import configured_model_name
from tests.connectors.documents.files import write_docx, write_pdf
from tests.connectors.drive.conftest import connect, sync

pytestmark = pytest.mark.django_db

LIBRARY = {
    "Notes/garden/plants.txt",
    "Notes/readme.md",
    "Policies/travel.docx",
    "Reports/2024/budget.pdf",
}


def library(dav) -> None:
    page_one = [f"Rule {n}: the travel budget is 12,000 euros a year." for n in range(30)]
    page_two = [f"Rule {n}: hardware spending is capped at 900 euros." for n in range(30, 60)]
    write_pdf(dav.path("Reports/2024/budget.pdf"), [["Budget 2024", *page_one], page_two])
    write_docx(dav.path("Policies/travel.docx"))
    dav.write(
        "Notes/garden/plants.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May."
    )
    dav.write(
        "Notes/readme.md",
        "# Readme\n\nThe wifi password is on the fridge.\n\n## Backups\n\nBackups run nightly.",
    )


def documents(owner) -> dict[str, Document]:
    return {doc.path: doc for doc in Document.objects.owned_by(owner)}


def chunk_ids(document: Document) -> list[int]:
    return list(document.chunks.order_by("ordinal").values_list("pk", flat=True))


def texts(document: Document) -> str:
    return " ".join(document.chunks.order_by("ordinal").values_list("text", flat=True))


def gets(dav, since: int = 0) -> list[str]:
    return [path for method, path, _ in dav.requests[since:] if method == "GET"]


def test_first_sync_indexes_nested_folders_of_every_type(owner, dav, embedded):
    library(dav)
    connection = connect(owner, dav)
    report = sync(connection)
    docs = documents(owner)
    assert set(docs) == LIBRARY
    assert {doc.status for doc in docs.values()} == {Document.Status.INDEXED}
    # "All files" holds the three top-level folders: each file is read once, through it.
    assert (report.sources, report.files, report.indexed, report.skipped) == (1, 4, 4, 0)
    assert len(gets(dav)) == 4 and report.downloads == 4
    chunks = DocumentChunk.objects.owned_by(owner)
    assert report.chunks_embedded == chunks.count() == len(embedded)
    assert sum(doc.chunk_count for doc in docs.values()) == chunks.count()
    assert not chunks.filter(embedding__isnull=True).exists()
    assert set(chunks.values_list("embedding_model", flat=True)) == {configured_model_name()}
    pdf = docs["Reports/2024/budget.pdf"]
    assert "12,000 euros" in texts(pdf) and "hardware spending" in texts(pdf)
    assert set(pdf.chunks.values_list("page", flat=True)) == {1, 2}
    assert pdf.size == dav.path("Reports/2024/budget.pdf").stat().st_size
    assert pdf.revision and pdf.content_hash and pdf.indexed_at
    assert pdf.web_url == f"{dav.url}Reports/2024/budget.pdf"
    assert pdf.connection == connection and pdf.source.name == "All files"
    docx = docs["Policies/travel.docx"]
    assert "two weeks ahead" in texts(docx)
    assert any("Booking" in h for h in docx.chunks.values_list("heading", flat=True))
    readme = docs["Notes/readme.md"]
    assert "Backups run nightly." in texts(readme)
    for chunk in readme.chunks.all():
        assert chunk.end > chunk.start and len(chunk.text) == chunk.end - chunk.start
    assert report.summary() == (
        "1 folder synced, 4 files: 4 indexed, 0 unchanged, 0 moved, 0 removed, 0 skipped; "
        f"{report.chunks_embedded} passages embedded."
    )


def test_an_unchanged_tree_costs_two_listings_and_nothing_else(owner, dav, embedded):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    before, ids = len(dav.requests), {p: chunk_ids(d) for p, d in documents(owner).items()}
    embedded.clear()
    report = sync(connection)
    assert [method for method, _, _ in dav.requests[before:]] == ["PROPFIND", "PROPFIND"]
    assert (report.unchanged, report.indexed, report.downloads, report.chunks_embedded) == (
        4, 0, 0, 0,
    )  # fmt: skip
    assert embedded == []
    assert {p: chunk_ids(d) for p, d in documents(owner).items()} == ids


def test_a_changed_file_is_read_again_and_only_it(owner, dav, embedded):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    ids = {p: chunk_ids(d) for p, d in documents(owner).items()}
    before = len(dav.requests)
    dav.write("Notes/garden/plants.txt", "Peppers want a warm greenhouse and little water.")
    embedded.clear()
    report = sync(connection)
    assert gets(dav, before) == ["/remote.php/dav/files/ana/Notes/garden/plants.txt"]
    assert (report.indexed, report.unchanged) == (1, 3)
    plants = documents(owner)["Notes/garden/plants.txt"]
    assert texts(plants) == "Peppers want a warm greenhouse and little water."
    assert len(embedded) == report.chunks_embedded == plants.chunk_count
    after = {p: chunk_ids(d) for p, d in documents(owner).items()}
    assert {p: v for p, v in after.items() if p != plants.path} == {
        p: v for p, v in ids.items() if p != plants.path
    }


def test_a_touched_file_with_the_same_text_is_not_embedded_again(owner, dav, embedded):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    readme = documents(owner)["Notes/readme.md"]
    path = dav.path("Notes/readme.md")
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 60))
    embedded.clear()
    report = sync(connection)
    assert report.downloads == 1 and report.unchanged == 4 and embedded == []
    touched = Document.objects.get(pk=readme.pk)
    assert touched.revision != readme.revision
    assert chunk_ids(touched) == chunk_ids(readme)


def test_a_rename_and_a_move_keep_their_chunks(owner, dav, embedded):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    before = documents(owner)
    kept = {
        "Notes/readme.md": "Notes/README (old).md",  # renamed
        "Reports/2024/budget.pdf": "Policies/2024 budget.pdf",  # moved to another folder
    }
    for old, new in kept.items():
        os.rename(dav.path(old), dav.path(new))
    embedded.clear()
    report = sync(connection)
    assert (report.moved, report.indexed, report.removed, report.chunks_embedded) == (2, 0, 0, 0)
    assert embedded == []
    after = documents(owner)
    assert set(after) == LIBRARY - set(kept) | set(kept.values())
    for old, new in kept.items():
        assert after[new].pk == before[old].pk
        assert chunk_ids(after[new]) == chunk_ids(before[old])
        assert after[new].remote_id == f"/remote.php/dav/files/ana/{new}"
    assert DocumentChunk.objects.owned_by(owner).count() == sum(
        d.chunk_count for d in after.values()
    )


def test_a_deleted_file_loses_its_document_and_chunks(owner, dav):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    gone = documents(owner)["Policies/travel.docx"]
    assert DocumentChunk.objects.filter(document_id=gone.pk).exists()
    dav.path("Policies/travel.docx").unlink()
    report = sync(connection)
    assert report.removed == 1 and set(documents(owner)) == LIBRARY - {"Policies/travel.docx"}
    assert not DocumentChunk.objects.filter(document_id=gone.pk).exists()


def test_a_server_without_infinite_depth_is_indexed_the_same(owner, dav_finite):
    library(dav_finite)
    connection = connect(owner, dav_finite)
    report = sync(connection)
    assert set(documents(owner)) == LIBRARY and report.indexed == 4
    root = connection.sources.get(name="All files")
    assert root.state == {"depth": "1"} and root.last_synced_at is not None
    before = len(dav_finite.requests)
    sync(connection)
    depths = [depth for method, _, depth in dav_finite.requests[before:] if method == "PROPFIND"]
    assert "infinity" not in depths and gets(dav_finite, before) == []


def test_only_the_chosen_folders_are_indexed(owner, dav):
    library(dav)
    connection = connect(owner, dav)
    sync(connection)
    notes = connection.sources.get(name="Notes")
    sources_include(connection=connection, included_ids=[notes.pk])
    assert documents(owner) == {}  # were read through "All files": gone when it was unticked
    report = sync(connection)
    assert set(documents(owner)) == {"Notes/garden/plants.txt", "Notes/readme.md"}
    assert (report.removed, report.indexed) == (0, 2)
    assert {d.source_id for d in documents(owner).values()} == {notes.pk}
    shutil.rmtree(dav.path("Notes/garden"))
    sync(connection)
    assert set(documents(owner)) == {"Notes/readme.md"}
