"""Uploads: files the user adds from the browser (the files page or a drop on the chat),
kept on this server under UPLOADS_ROOT and read by the same drive sync as WebDAV or
Google Drive (listed here, downloaded from disk, extracted, chunked, embedded).

One connection per user, made by the first upload (connectors/uploads/services.py),
with one source, "Uploads". Its config names the owner whose folder it reads; there is
no server and no secret. It is "connected by a redirect": the connections page's
Connect goes to the uploads page, which has no form to fill.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from connectors.base import (
    ConnectorKind,
    FileGone,
    FileListing,
    RemoteFile,
    RemoteSource,
    Session,
)
from connectors.uploads import storage

SOURCE_ID = "uploads/"
SOURCE_NAME = "Uploads"


def _owner_id(session: Session) -> int:
    return int(session.config["owner"])


class UploadsKind(ConnectorKind):
    slug = "uploads"
    name = "Uploads"
    category = "drive"
    description = (
        "Your own files, added from this browser (or dropped onto the chat): kept on this "
        "server, their text searched beside your memories. No account or server needed."
    )
    uses_oauth = True  # no form: Connect goes to connectors:uploads-start

    def sources(self, session: Session) -> list[RemoteSource]:
        return [RemoteSource(remote_id=SOURCE_ID, name=SOURCE_NAME)]

    def list_files(
        self, session: Session, source: RemoteSource, state: dict[str, Any]
    ) -> FileListing:
        files = [
            RemoteFile(
                remote_id=stored.key,
                path=stored.name,
                revision=stored.sha256,
                size=stored.size,
                mime_type=stored.mime_type,
                modified_at=stored.uploaded_at,
            )
            for stored in storage.files_list(_owner_id(session))
        ]
        return FileListing(state={}, files=files, complete=True)

    def download(self, session: Session, source: RemoteSource, file: RemoteFile) -> Iterator[bytes]:
        path = storage.file_path(_owner_id(session), file.remote_id)
        try:
            if path is None:
                raise FileNotFoundError(file.remote_id)
            return storage.file_blocks(path)
        except FileNotFoundError as error:
            raise FileGone("This file was deleted.") from error

    def disconnect(self, session: Session) -> None:
        """Removing the connection removes the files themselves: they live nowhere else."""
        storage.owner_files_remove(_owner_id(session))
