"""Shared drives on the Google Drive stand-in: offered as sources beside My Drive (from
drives.list), read through their own listing and changes feed with the flags Google asks
for, and dropped with their files once deleted or no longer shared."""

from __future__ import annotations

import pytest

from connectors.base import RemoteSource, SourceGone
from connectors.google_drive.kind import GoogleDriveKind
from connectors.models import Connection
from connectors.services.connections import sources_include
from connectors.services.sync import connection_session
from tests.connectors.google_drive.conftest import connect, stored, sync
from tests.connectors.google_drive.fake_drive import FakeDrive

pytestmark = pytest.mark.django_db

DOC = "application/vnd.google-apps.document"
TEAM = "Team handbook (shared drive)"


def fill(drive: FakeDrive) -> dict[str, str]:
    """My Drive with one file, and two shared drives; file ids by name."""
    ids = {"mine.txt": drive.put("mine.txt", content="My own shopping list: oat milk.")}
    ids["Team"] = drive.shared_drive("Team handbook")
    ids["Other"] = drive.shared_drive("Archive")
    ids["Policies"] = drive.folder("Policies", ids["Team"])
    ids["Leave"] = drive.put(
        "Leave",
        ids["Policies"],
        mime=DOC,
        content="Holidays are requested two weeks ahead in Personio.",
    )
    ids["oncall.md"] = drive.put("oncall.md", ids["Team"], content="# On call\n\nPager rota.")
    ids["old.txt"] = drive.put("old.txt", ids["Other"], content="Archived minutes.")
    return ids  # fmt: skip


def only(connection: Connection, *names: str) -> None:
    chosen = [connection.sources.get(name=name).pk for name in names]
    sources_include(connection=connection, included_ids=chosen)


def test_shared_drives_are_offered_beside_my_drive(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    drive.page_size = 1  # drives.list in pages
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    names = {s.name: s.remote_id for s in connection.sources.all()}
    assert names[TEAM] == f"drive/{ids['Team']}/" and names["Archive (shared drive)"]
    assert not names[TEAM].startswith(names["My Drive"])  # not inside My Drive
    assert len([c for c in drive.drive_calls if c.startswith("GET drives?")]) == 2


def test_a_shared_drive_is_listed_read_and_kept_apart_from_my_drive(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    only(connection, TEAM, "My Drive")

    report = sync(connection)

    assert stored(connection) == {
        "mine.txt": "indexed",
        "Policies/Leave": "indexed",
        "oncall.md": "indexed",
    }  # the Archive drive is not chosen; My Drive's listing holds no shared items
    assert report.indexed == 3 and report.sources == 2
    listings = [c for c in drive.drive_calls if c.startswith("GET files?") and ids["Team"] in c]
    assert listings and all(
        "corpora=drive" in c and "includeItemsFromAllDrives=true" in c
        and "supportsAllDrives=true" in c for c in listings
    )  # fmt: skip
    assert any(f"changes/startPageToken?driveId={ids['Team']}" in c for c in drive.drive_calls)
    media = [c for c in drive.drive_calls if ids["oncall.md"] in c and "alt=media" in c]
    assert media and all("supportsAllDrives=true" in c for c in media)


def test_a_shared_drives_changes_come_from_its_own_feed(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    only(connection, TEAM, "My Drive")
    sync(connection)
    drive.put("oncall.md", ids["Team"], file_id=ids["oncall.md"], content="Rota: Ana, Ben.")
    drive.trash(ids["Leave"])
    drive.put("expenses.txt", ids["Policies"], content="Expenses go through Pleo.")
    drive.put("archived.txt", ids["Other"], content="Not in the chosen drive.")
    drive.put("mine.txt", file_id=ids["mine.txt"], content="Oat milk and rye bread.")
    drive.drive_calls.clear()

    report = sync(connection)

    team_feed = [c for c in drive.drive_calls if c.startswith("GET changes?") and "&driveId=" in c]
    assert team_feed and all(f"driveId={ids['Team']}" in c for c in team_feed)
    assert all("includeItemsFromAllDrives=true" in c for c in team_feed)
    relisted = [c for c in drive.drive_calls if c.startswith("GET files?") and ids["Team"] in c]
    assert relisted == []  # the feed alone, no listing of the drive's tree
    assert stored(connection) == {
        "mine.txt": "indexed",
        "oncall.md": "indexed",
        "Policies/expenses.txt": "indexed",
    }
    assert (report.indexed, report.removed) == (3, 1)
    drive.remove(ids["oncall.md"])  # deleted for good: a removal in the drive's feed
    report = sync(connection)
    assert "oncall.md" not in stored(connection) and report.removed == 1


def test_a_deleted_shared_drive_drops_its_files_and_the_rest_syncs(
    owner_client, drive, django_capture_on_commit_callbacks
):
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    only(connection, TEAM, "My Drive")
    sync(connection)
    drive.shared_drive_delete(ids["Team"])

    report = sync(connection)

    assert stored(connection) == {"mine.txt": "indexed"}
    team = connection.sources.get(name=TEAM)
    assert team.gone_at is not None and team.state == {}
    assert any("Team handbook" in problem for problem in report.problems)


def test_a_shared_drive_removed_under_a_running_sync_is_source_gone(
    owner_client, drive, django_capture_on_commit_callbacks
):
    """Between drives.list and its feed: the feed's `changeType: drive` removal, and a
    404 for a forgotten drive when it lists again."""
    ids = fill(drive)
    connection = connect(owner_client, django_capture_on_commit_callbacks)
    only(connection, TEAM)
    sync(connection)
    team = connection.sources.get(name=TEAM)
    remote = RemoteSource(remote_id=team.remote_id, name=team.name)
    drive.shared_drive_delete(ids["Team"])
    session = connection_session(connection)
    try:
        with pytest.raises(SourceGone, match="shared drive"):
            GoogleDriveKind().list_files(session, remote, team.state)
        with pytest.raises(SourceGone, match="no longer"):  # no state: the listing's 404
            GoogleDriveKind().list_files(session, remote, {})
    finally:
        session.close()
