"""A drive connection on the connections pages: folders, files and passages in the
wording and counts; its files page (what was indexed, what was skipped and why, search,
pages, re-index); and unticking a folder dropping its files at once. Against WsgiDAV."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.documents.models import Document, DocumentChunk
from connectors.models import Connection
from connectors.views import files as files_view
from tests.connectors.drive.conftest import connect, sync

pytestmark = pytest.mark.django_db


def library(dav, settings) -> None:
    settings.DOCUMENT_MAX_BYTES = 64 * 1024
    dav.write("Notes/garden.txt", "Tomatoes need six hours of sun.\n\nBasil goes out in May.")
    dav.write("Notes/readme.md", "# Readme\n\nThe wifi password is on the fridge.")
    dav.write("Other/big.txt", "word " * 20_000)  # over the limit
    dav.write("Other/photo.png", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)


@pytest.fixture
def drive(owner, dav, settings):
    library(dav, settings)
    connection = connect(owner, dav)
    sync(connection)
    return connection


def files_url(connection, **query) -> str:
    url = reverse("connectors:files", args=[connection.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def test_the_files_page_shows_what_was_indexed_and_why_the_rest_was_skipped(owner_client, drive):
    body = owner_client.get(files_url(drive)).content.decode()
    assert "2 indexed (2 passages) · 2 skipped · 0 failed · 0 waiting" in body
    for path in ("Notes/garden.txt", "Notes/readme.md", "Other/big.txt", "Other/photo.png"):
        assert path in body
    big = Document.objects.get(path="Other/big.txt")
    photo = Document.objects.get(path="Other/photo.png")
    assert big.skip_message in body and "DOCUMENT_MAX_BYTES" in big.skip_message
    assert photo.skip_message in body
    garden = Document.objects.get(path="Notes/garden.txt")
    assert f'href="{garden.web_url}"' in body and garden.web_url.startswith("http://127.0.0.1")
    skipped = owner_client.get(files_url(drive, status="skipped")).content.decode()
    assert "Other/big.txt" in skipped and "Notes/garden.txt" not in skipped


def test_a_file_link_is_only_an_http_address(owner_client, drive):
    Document.objects.filter(path="Notes/readme.md").update(web_url="javascript:alert(1)")
    body = owner_client.get(files_url(drive)).content.decode()
    assert "javascript:alert(1)" not in body and "Notes/readme.md" in body


def test_search_finds_the_connections_passages_marked_and_escaped(owner_client, drive):
    DocumentChunk.objects.filter(document__path="Notes/readme.md").update(
        text="The <b>wifi</b> password & salt are on the fridge."
    )
    body = owner_client.get(files_url(drive, q="fridge")).content.decode()
    assert "Notes/readme.md" in body and "<mark>fridge</mark>" in body
    # A passage is text, never markup: tags are dropped, the rest escaped.
    assert "<b>wifi</b>" not in body and "password &amp; salt" in body
    part = owner_client.get(files_url(drive, q="tomatoes", part="passages"), HTTP_HX_REQUEST="true")
    text = part.content.decode()
    assert text.lstrip().startswith('<div id="passages">') and "Notes/garden.txt" in text


def test_search_finds_passages_by_meaning_as_the_chat_does(owner_client, drive):
    body = owner_client.get(files_url(drive, q="vegetables+sunlight")).content.decode()
    listed = body[body.index('class="files-passages"') :]
    assert listed.index("Notes/garden.txt") < listed.index("Notes/readme.md")
    assert "<mark>" not in listed  # no word in common: found by its meaning


def test_search_sees_only_this_connection(owner, owner_client, drive, tmp_path, settings):
    from tests.connectors.drive.dav_server import dav_server

    with dav_server(tmp_path / "second") as other:
        other.write("fridge.txt", "A second fridge list.")
        second = connect(owner, other)
        sync(second)
    body = owner_client.get(files_url(drive, q="fridge")).content.decode()
    assert "Notes/readme.md" in body and "fridge.txt</strong>" not in body


def test_big_folders_are_paged(owner_client, drive, monkeypatch):
    monkeypatch.setattr(files_view, "PAGE_SIZE", 3)
    first = owner_client.get(files_url(drive)).content.decode()
    assert "Page 1 of 2" in first and "Other/photo.png" not in first and "Next →" in first
    second = owner_client.get(files_url(drive, page=2)).content.decode()
    assert "Other/photo.png" in second and "Notes/garden.txt" not in second


def test_the_empty_state_says_what_will_appear(owner, owner_client, dav):
    connection = connect(owner, dav)
    body = owner_client.get(files_url(connection)).content.decode()
    assert "No files yet." in body and "what was skipped and why" in body
    searched = owner_client.get(files_url(connection, q="fridge")).content.decode()
    assert "No passage of these files matches “fridge”." in searched


def test_reindex_marks_the_file_and_starts_a_sync(owner_client, drive, syncs, dav):
    garden = Document.objects.get(path="Notes/garden.txt")
    url = reverse("connectors:file-reindex", args=[drive.pk, garden.pk])
    assert owner_client.get(url).status_code == 405
    assert syncs == []
    response = owner_client.post(url, {"next": files_url(drive, page=1)})
    assert response.status_code == 302 and response["Location"] == files_url(drive, page=1)
    garden.refresh_from_db()
    assert garden.status == "pending" and garden.revision == ""
    assert garden.chunks.count() == 1  # still searchable until read again
    assert syncs == [drive.pk]
    # The next sync reads it again (and only it).
    before = len(dav.requests)
    report = sync(drive)
    assert (report.downloads, report.indexed) == (1, 1)
    gets = [path for method, path, _ in dav.requests[before:] if method == "GET"]
    assert len(gets) == 1 and gets[0].endswith("garden.txt")
    garden.refresh_from_db()
    assert garden.status == "indexed" and garden.revision


def test_reindex_goes_back_only_to_this_files_page(owner_client, drive, syncs):
    garden = Document.objects.get(path="Notes/garden.txt")
    url = reverse("connectors:file-reindex", args=[drive.pk, garden.pk])
    response = owner_client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == files_url(drive)


def test_reindex_of_another_users_file_is_404(outsider_client, drive, syncs):
    garden = Document.objects.get(path="Notes/garden.txt")
    url = reverse("connectors:file-reindex", args=[drive.pk, garden.pk])
    assert outsider_client.post(url).status_code == 404
    garden.refresh_from_db()
    assert garden.status == "indexed" and garden.revision and syncs == []


def test_unticking_a_folder_drops_its_files_at_once(owner, owner_client, dav, settings, syncs):
    library(dav, settings)
    connection = connect(owner, dav)
    folders = {source.name: source for source in connection.sources.all()}
    chosen = [folders["Notes"].pk, folders["Other"].pk]
    owner_client.post(reverse("connectors:sources", args=[connection.pk]), {"include": chosen})
    sync(connection)
    assert Document.objects.filter(source=folders["Notes"]).count() == 2
    response = owner_client.post(
        reverse("connectors:sources", args=[connection.pk]), {"include": [folders["Other"].pk]}
    )
    assert response.status_code == 302
    assert not Document.objects.filter(source=folders["Notes"]).exists()
    assert not DocumentChunk.objects.filter(document__path__startswith="Notes/").exists()
    assert Document.objects.filter(source=folders["Other"]).count() == 2
    page = owner_client.get(reverse("connectors:detail", args=[connection.pk])).content.decode()
    assert "1 folder included." in page


def test_the_connection_pages_speak_of_folders_files_and_passages(owner_client, drive):
    index = owner_client.get(reverse("connectors:index")).content.decode()
    assert "3 of 3 folders included" in index and "2 files" in index and "2 passages" in index
    assert files_url(drive) in index
    detail = owner_client.get(reverse("connectors:detail", args=[drive.pk])).content.decode()
    assert "2 files indexed" in detail and ">Files</a>" in detail and "Save folders" in detail
    assert detail.count("read through “All files”") == 2  # Notes and Other, inside it
    assert "calendar" not in detail.lower().replace("google calendar", "")
    confirm = owner_client.get(reverse("connectors:disconnect", args=[drive.pk])).content.decode()
    assert "3 folders, 2 indexed files (2 passages)" in confirm
    done = owner_client.post(reverse("connectors:disconnect", args=[drive.pk]), follow=True)
    assert "removed 3 folders and 4 files with their passages." in done.content.decode()
    assert not Document.objects.exists() and not DocumentChunk.objects.exists()


def test_reindex_on_a_paused_connection_waits_for_resume(owner_client, drive, syncs):
    Connection.objects.filter(pk=drive.pk).update(status=Connection.Status.PAUSED)
    garden = Document.objects.get(path="Notes/garden.txt")
    url = reverse("connectors:file-reindex", args=[drive.pk, garden.pk])
    page = owner_client.post(url, follow=True).content.decode()
    assert "this connection is paused: resume it first." in page and syncs == []
    garden.refresh_from_db()
    assert garden.status == "pending"
