"""WebDAV: the files of a Nextcloud, ownCloud or other WebDAV account, read from the
folders the user chooses. Each sync lists the folder (PROPFIND) and the file service
downloads only files whose ETag moved, so an unchanged tree costs listings only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from connectors.base import (
    Connected,
    ConnectorKind,
    FileListing,
    RemoteFile,
    RemoteSource,
    Session,
)
from connectors.net import url_check
from connectors.webdav.client import Drive
from connectors.webdav.forms import WebDavForm
from connectors.webdav.listing import files_list, folder_sources, root_list


def _drive(session: Session) -> Drive:
    """The connection's client, kept open for the rest of the sync (session.handles)."""
    drive = session.handles.get("webdav")
    if drive is None:
        config = session.config
        drive = Drive(
            url=config["url"],
            username=config.get("username", ""),
            password=session.secrets.get("password", ""),
            auth_type=config.get("auth_type", ""),
        )
        session.handles["webdav"] = drive
    return drive


class WebDavKind(ConnectorKind):
    slug = "webdav"
    name = "WebDAV / Nextcloud"
    category = "drive"
    description = (
        "Files on Nextcloud, ownCloud or another WebDAV server: the text of the documents "
        "in the folders you choose, kept in sync and searched beside your memories."
    )

    def form_class(self) -> Any:
        return WebDavForm

    def connect(self, data: dict[str, Any]) -> Connected:
        url = url_check(data["url"])
        url = url if url.endswith("/") else url + "/"
        username, password = data.get("username", "").strip(), data.get("password", "")
        drive = Drive(url=url, username=username, password=password)
        try:
            sources = folder_sources(drive, root_list(drive))
        finally:
            drive.close()
        host = urlsplit(url).hostname or url
        return Connected(
            label=f"{username} on {host}"[:200] if username else host,
            display_url=url,
            config={"url": url, "username": username, "auth_type": drive.auth_type},
            secrets={"password": password},
            sources=sources,
        )

    def sources(self, session: Session) -> list[RemoteSource]:
        drive = _drive(session)
        return folder_sources(drive, root_list(drive))

    def list_files(
        self, session: Session, source: RemoteSource, state: dict[str, Any]
    ) -> FileListing:
        drive = _drive(session)
        before = drive.requests
        files, problems, infinity = files_list(
            drive, source.remote_id, infinity=state.get("depth") != "1"
        )
        return FileListing(
            state={"depth": "infinity" if infinity else "1"},
            files=files,
            complete=True,
            requests=drive.requests - before,
            problems=problems,
        )

    def download(self, session: Session, source: RemoteSource, file: RemoteFile) -> Iterator[bytes]:
        return _drive(session).stream(file.remote_id)
