"""Google Drive: connected through Google's consent page (the calendar's OAuth flow, with
the drive.readonly scope); My Drive, its top-level folders and the shared drives the
account is a member of are the sources.

The first sync lists the chosen folder's tree; the state keeps a changes token taken
before that listing and the tree's folders, so each later sync reads only the changes
feed: files changed in the tree are read again, files removed, trashed or moved out are
deleted. A change to a folder of the tree (renamed, moved, trashed) re-lists the tree,
as does a token Google forgot. Google Docs, Sheets and Slides are exported as text.

A shared drive ("drive/<drive id>/") is read the same way through its own listing
(corpora=drive) and its own changes feed (changes.list with its driveId): its top
folder's id is the drive's id. A shared drive deleted, or no longer shared with the
account, is SourceGone: its files go, the other sources sync on.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings

from connectors.base import (
    Connected,
    ConnectorKind,
    FileListing,
    PermanentError,
    RemoteFile,
    RemoteSource,
    Session,
    SourceGone,
)
from connectors.google_calendar.oauth import token_revoke
from connectors.google_drive.api import SCOPE, DriveApi, PageTokenExpired

FOLDER = "application/vnd.google-apps.folder"
GOOGLE_APPS = "application/vnd.google-apps."
# Google's own formats have no bytes to download: each is exported in a text format.
EXPORTS = {
    "application/vnd.google-apps.document": "text/plain",
    "application/vnd.google-apps.spreadsheet": "text/csv",
    "application/vnd.google-apps.presentation": "text/plain",
}
MY_DRIVE = "My Drive"
SHARED_DRIVE = "drive/"  # the remote_id prefix of a shared drive's source


def folder_id(source: RemoteSource) -> str:
    """A source's remote_id is path-like ("root/", "root/<id>/"), so a top-level folder
    lies inside My Drive for the file service; the Drive id is its last part."""
    return source.remote_id.rstrip("/").rsplit("/", 1)[-1]


def shared_drive_id(source: RemoteSource) -> str:
    """The shared drive a source is ("" for My Drive and its folders)."""
    return folder_id(source) if source.remote_id.startswith(SHARED_DRIVE) else ""


def _api(session: Session) -> DriveApi:
    """The connection's client, kept open for the rest of the sync (session.handles)."""
    api = session.handles.get("google_drive")
    if api is None:
        api = session.handles["google_drive"] = DriveApi(session)
    return api


def _name(item: dict[str, Any]) -> str:
    return str(item.get("name") or item["id"])


def _when(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


class _Listing:
    """The files of one folder tree, gathered from listings or changes."""

    def __init__(self, api: DriveApi, drive: str = "") -> None:
        self.api = api
        self.drive = drive  # the shared drive the tree is in, or ""
        self.files: list[RemoteFile] = []
        self.problems: list[str] = []

    def add(self, item: dict[str, Any], path: str) -> None:
        """A file of the tree, or a problem line for a Google format with no text export."""
        mime = item.get("mimeType", "")
        export = EXPORTS.get(mime, "")
        if mime.startswith(GOOGLE_APPS) and not export:
            what = mime.removeprefix(GOOGLE_APPS)
            self.problems.append(f"Skipped {path}: a Google {what} cannot be read as text.")
            return
        if export:
            self.api.exports[item["id"]] = export
        size = item.get("size")
        self.files.append(RemoteFile(
            remote_id=item["id"], path=path,
            revision=item.get("md5Checksum") or item.get("modifiedTime", ""),
            size=int(size) if size is not None and not export else None,
            mime_type=export or mime, modified_at=_when(item.get("modifiedTime", "")),
            web_url=item.get("webViewLink", ""),
        ))  # fmt: skip

    def tree(self, root: str) -> dict[str, str]:
        """Walk the folder `root`: its files, and its folders by id with their paths."""
        folders = {root: ""}
        pending = [root]
        while pending:
            parent = pending.pop()
            for item in self.api.children(parent, drive=self.drive):
                path = folders[parent] + item.get("name", item["id"]).replace("/", "_")
                if item.get("mimeType") == FOLDER:
                    if item["id"] not in folders:  # a folder in two places: read once
                        folders[item["id"]] = path + "/"
                        pending.append(item["id"])
                else:
                    self.add(item, path)
        return folders


class GoogleDriveKind(ConnectorKind):
    slug = "google_drive"
    name = "Google Drive"
    category = "drive"
    description = (
        "Your Google Drive, through Google's consent page (read only): the text of your "
        "documents, sheets and slides in the folders you choose, kept in sync."
    )
    uses_oauth = True
    scopes = [SCOPE]

    def not_configured(self) -> str:
        if settings.GOOGLE_OAUTH_CLIENT_ID and settings.GOOGLE_OAUTH_CLIENT_SECRET:
            return ""
        return (
            "Set GOOGLE_OAUTH_CLIENT_ID and GOOGLE_OAUTH_CLIENT_SECRET (an OAuth client of "
            "type Web application in Google Cloud, with this server's "
            "/connections/google/callback as redirect URI) to offer Google Drive."
        )

    def connect(self, data: dict[str, Any]) -> Connected:
        raise PermanentError("Google Drive is connected through Google's consent page.")

    def connected(self, secrets: dict[str, Any]) -> Connected:
        """What to store after the consent: the account and its top-level folders."""
        session = Session(config={}, secrets=secrets)
        try:
            account = _api(session).account()
            sources = self.sources(session)
        finally:
            session.close()
        return Connected(
            label=f"Google Drive ({account})" if account else "Google Drive",
            display_url=account or "Google account",
            config={"account": account},
            secrets=session.secrets,
            sources=sources,
        )

    def sources(self, session: Session) -> list[RemoteSource]:
        api = _api(session)
        folders = api.children("root", folders_only=True)
        return [
            RemoteSource(remote_id="root/", name=MY_DRIVE),
            *(
                RemoteSource(remote_id=f"root/{item['id']}/", name=_name(item)[:300])
                for item in folders
            ),
            *(
                RemoteSource(remote_id=f"{SHARED_DRIVE}{item['id']}/",
                             name=f"{_name(item)[:280]} (shared drive)")
                for item in api.shared_drives()
            ),
        ]  # fmt: skip

    def list_files(
        self, session: Session, source: RemoteSource, state: dict[str, Any]
    ) -> FileListing:
        api = _api(session)
        before = api.requests
        drive = shared_drive_id(source)
        listing = None
        if state.get("page_token") and state.get("folders"):
            try:
                listing = self._changes(api, state, drive)
            except PageTokenExpired:
                listing = None  # Google forgot the token: list the whole tree again
        if listing is None:
            listing = self._full(api, folder_id(source), drive)
        listing.requests = api.requests - before
        return listing

    def _full(self, api: DriveApi, root: str, drive: str = "") -> FileListing:
        # The token before the listing: nothing falls between the two.
        token = api.start_page_token(drive)
        if root == "root":  # parents name My Drive by its own id, not the alias
            root = str(api.file_get("root")["id"])
        found = _Listing(api, drive)
        folders = found.tree(root)
        return FileListing(
            state={"page_token": token, "folders": folders},
            files=found.files, complete=True, problems=found.problems,
        )  # fmt: skip

    def _changes(self, api: DriveApi, state: dict[str, Any], drive: str = "") -> FileListing | None:
        """What changed in the tree since the saved token; None when a folder of the tree
        changed (a full listing says what moved with it)."""
        folders: dict[str, str] = state["folders"]
        changes, token = api.changes(state["page_token"], drive)
        found = _Listing(api, drive)
        deleted: list[str] = []
        for change in changes:
            if change.get("changeType") == "drive":  # the shared drive itself
                if drive and change.get("driveId") == drive and change.get("removed"):
                    raise SourceGone("This shared drive was deleted, or is no longer shared "
                                     "with this account.")  # fmt: skip
                continue  # renamed, or another drive: paths are relative to the drive
            item = change.get("file") or {}
            file_id = change.get("fileId") or item.get("id", "")
            gone = change.get("removed") or item.get("trashed")
            parent = next((p for p in item.get("parents", []) if p in folders), None)
            if folders.get(file_id) == "":
                continue  # the chosen folder itself (renamed): its paths are relative to it
            if item.get("mimeType") == FOLDER or file_id in folders:
                if file_id in folders or parent is not None:
                    return None
                continue
            if gone or parent is None:
                deleted.append(file_id)  # trashed, removed, or moved out of the tree
            else:
                found.add(item, folders[parent] + item.get("name", file_id).replace("/", "_"))
        changed = {file.remote_id for file in found.files}
        return FileListing(
            state={"page_token": token, "folders": folders},
            files=found.files, deleted=[d for d in deleted if d not in changed],
            unchanged=not found.files and not deleted, problems=found.problems,
        )  # fmt: skip

    def download(self, session: Session, source: RemoteSource, file: RemoteFile) -> Iterator[bytes]:
        api = _api(session)
        return api.download(file.remote_id, api.exports.get(file.remote_id, ""))

    def disconnect(self, session: Session) -> None:
        token_revoke(session)
