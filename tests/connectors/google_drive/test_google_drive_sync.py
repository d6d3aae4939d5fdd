"""The Google Drive kind against a local stand-in for Google (fake_drive.py): the consent
redirects driven with the Django test client, syncs through the real file service over
real HTTP, with the real embedder and PostgreSQL."""

from __future__ import annotations

import pytest
from django.contrib.postgres.search import SearchQuery
from django.test import Client
from django.urls import reverse

from assistant.background.syncs import connection_sync_run
from connectors.base import TransientError
from connectors.documents.models import Document, DocumentChunk
from connectors.google_drive import api as drive_api
from connectors.google_drive.kind import GoogleDriveKind
from connectors.models import Connection
from connectors.services.connections import sources_include
from tests.connectors.documents.files import pdf_bytes, text_content
from tests.connectors.google_drive.conftest import connect, stored, sync
from tests.connectors.google_drive.fake_drive import ACCOUNT, FakeDrive

pytestmark = pytest.mark.django_db

DOC = "application/vnd.google-apps.document"
SHEET = "application/vnd.google-apps.spreadsheet"
SLIDES = "application/vnd.google-apps.presentation"
FORM = "application/vnd.google-apps.form"


def fill(drive: FakeDrive) -> dict[str, str]:
    """My Drive with two top-level folders; returns file ids by name."""
    ids = {"Projects": drive.folder("Projects"), "Personal": drive.folder("Personal")}
    ids["Sub"] = drive.folder("Sub", ids["Projects"])
    ids["Plan"] = drive.put(
        "Plan", ids["Projects"], mime=DOC, content="The launch is planned for the ninth of March."
    )
    ids["Budget"] = drive.put(
        "Budget",
        ids["Projects"],
        mime=SHEET,
        content="item,cost\nprinter toner,120\nwhiteboard,80\n",
    )
    ids["Pitch"] = drive.put(
        "Pitch",
        ids["Sub"],
        mime=SLIDES,
        content="Pitch deck\n\nOur otters juggle better than theirs.",
    )
    report = pdf_bytes([text_content(["The warranty of the espresso machine ends in 2027."])])
    ids["report.pdf"] = drive.put("report.pdf", ids["Sub"], mime="application/pdf", content=report)
    ids["notes.txt"] = drive.put(
        "notes.txt", ids["Projects"], content="Tomatoes need six hours of sun. " * 8
    )
    ids["Survey"] = drive.put("Survey", ids["Projects"], mime=FORM)
    ids["diary.txt"] = drive.put("diary.txt", ids["Personal"], content="Dear diary, rain again.")
    return ids


def only(connection: Connection, name: str) -> None:
    sources_include(connection=connection, included_ids=[connection.sources.get(name=name).pk])


def test_the_consent_connects_my_drive_and_its_folders(
    owner_client, owner, drive, django_capture_on_commit_callbacks
):
    fill(drive)
    start = owner_client.get(reverse("connectors:google-drive-start"))
    assert "drive.readonly" in start["Location"] and "calendar" not in start["Location"]
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    assert (connection.owner, connection.label) == (owner, f"Google Drive ({ACCOUNT})")
    names = {s.name: s.remote_id for s in connection.sources.all()}
    assert set(names) == {"My Drive", "Projects", "Personal"}
    assert names["Projects"].startswith(names["My Drive"])  # read once, inside My Drive


def test_a_first_sync_reads_the_tree_exports_google_files_and_skips_forms(
    owner_client, drive, django_capture_on_commit_callbacks, monkeypatch
):
    ids = fill(drive)
    monkeypatch.setattr(drive_api, "BLOCK_BYTES", 64)  # notes.txt comes in ranged blocks
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    report = sync(connection)
    assert stored(connection) == {
        "Projects/Plan": "indexed",
        "Projects/Budget": "indexed",
        "Projects/notes.txt": "indexed",
        "Projects/Sub/Pitch": "indexed",
        "Projects/Sub/report.pdf": "indexed",
        "Personal/diary.txt": "indexed",
    }
    assert report.indexed == 6 and report.sources == 1
    assert "Skipped Projects/Survey: a Google form cannot be read as text." in report.problems
    exports = [c for c in drive.drive_calls if "/export?" in c]
    assert any("text%2Fcsv" in c and ids["Budget"] in c for c in exports) and len(exports) == 3
    ranged = [c for c in drive.drive_calls if ids["notes.txt"] in c and "alt=media" in c]
    assert len(ranged) > 1
    owner_chunks = DocumentChunk.objects.owned_by(connection.owner)
    for word in ("toner", "otters", "espresso", "March"):
        assert owner_chunks.filter(search=SearchQuery(word, config="english")).exists(), word
    plan = Document.objects.get(path="Projects/Plan")
    assert plan.revision and plan.web_url.endswith(f"/d/{ids['Plan']}/view")
    state = connection.sources.get(name="My Drive").state
    assert state["page_token"] == str(len(drive.log))  # taken before the listing
    assert state["folders"][ids["Sub"]] == "Projects/Sub/"


def test_the_next_sync_reads_the_changes_feed_page_by_page(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    only(connection, "Projects")
    sync(connection)
    assert set(stored(connection)) == {"Plan", "Budget", "notes.txt", "Sub/Pitch", "Sub/report.pdf"}
    drive.page_size_changes = 2
    drive.put("Projects 2024", file_id=ids["Projects"], mime="application/vnd.google-apps.folder")
    drive.put("notes.txt", ids["Projects"], file_id=ids["notes.txt"], content="Basil in May.")
    drive.trash(ids["Budget"])
    drive.remove(ids["Pitch"])
    drive.move(ids["report.pdf"], ids["Personal"])  # moved out of the chosen folder
    drive.put("todo.md", ids["Sub"], content="# Todo\n\nBuy a kayak paddle.")
    drive.put("elsewhere.txt", ids["Personal"], content="Not in the chosen folder.")
    drive.drive_calls.clear()
    report = sync(connection)
    changes = [c for c in drive.drive_calls if c.startswith("GET changes?")]
    assert len(changes) == 4  # seven changes, two a page
    assert not any("files?" in c and ids["Projects"] in c for c in drive.drive_calls)
    assert stored(connection) == {
        "Plan": "indexed",
        "notes.txt": "indexed",
        "Sub/todo.md": "indexed",
    }
    assert (report.indexed, report.removed) == (2, 3)
    assert DocumentChunk.objects.filter(document__path="notes.txt", text__contains="Basil").exists()
    drive.drive_calls.clear()
    report = sync(connection)
    assert report.indexed == 0 and report.downloads == 0
    assert [c for c in drive.drive_calls if c.startswith("GET changes?")] != []


def test_a_forgotten_changes_token_lists_the_whole_tree_again(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    sync(connection)
    del drive.files[ids["diary.txt"]]  # gone without a change: only a full listing shows it
    drive.tokens_forget()
    drive.drive_calls.clear()
    report = sync(connection)
    assert any(c.startswith("GET changes?") for c in drive.drive_calls)
    assert any(c.startswith("GET changes/startPageToken") for c in drive.drive_calls)
    assert "Personal/diary.txt" not in stored(connection) and report.removed == 1
    assert report.downloads == 0  # everything else was at the revision stored


def test_a_folder_renamed_lists_the_tree_again_and_files_keep_their_chunks(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    sync(connection)
    before = set(DocumentChunk.objects.values_list("pk", flat=True))
    drive.put("Side projects", file_id=ids["Projects"], mime="application/vnd.google-apps.folder")
    report = sync(connection)
    assert "Side projects/Sub/Pitch" in stored(connection)
    assert (
        report.downloads == 0 and set(DocumentChunk.objects.values_list("pk", flat=True)) == before
    )


def test_a_grant_revoked_mid_sync_pauses_the_connection_with_the_reason(
    owner_client, drive, django_capture_on_commit_callbacks
):
    fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    drive.revoke_at_download = 2
    outcome = connection_sync_run(connection_id=connection.pk)
    assert outcome.state == "failed" and "revoked" in outcome.problems[0]
    connection.refresh_from_db()
    assert connection.is_paused and "Google access was revoked" in connection.paused_reason
    assert "Reconnect Google Drive" in connection.last_error_hint
    start = owner_client.get(reverse("connectors:reconnect", args=[connection.pk]))
    assert start["Location"] == (
        reverse("connectors:google-drive-start") + f"?reconnect={connection.pk}"
    )


def test_drive_files_are_their_owners_only(
    owner_client, owner, outsider, drive, django_capture_on_commit_callbacks
):
    fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    sync(connection)
    assert Document.objects.owned_by(owner).count() == 6
    assert not Document.objects.owned_by(outsider).exists()
    assert not DocumentChunk.objects.owned_by(outsider).exists()
    start = reverse("connectors:google-drive-start") + f"?reconnect={connection.pk}"
    outsider_client = Client()
    outsider_client.force_login(outsider)
    assert outsider_client.get(start).status_code == 404


def test_not_configured_until_the_oauth_client_is_set(settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    assert "GOOGLE_OAUTH_CLIENT_ID" in GoogleDriveKind().not_configured()


def test_a_file_deleted_before_its_download_is_dropped_and_the_rest_kept(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    drive.vanish_on_download.add(ids["notes.txt"])
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    report = sync(connection)
    assert "Projects/notes.txt" not in stored(connection)
    assert report.indexed == 5 and report.failed == 0


def test_a_busy_google_is_a_transient_error(
    owner_client, drive, django_capture_on_commit_callbacks
):
    fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    drive.busy = 1
    with pytest.raises(TransientError, match="busy or failing"):
        sync(connection)
    connection.refresh_from_db()
    assert not connection.is_paused
