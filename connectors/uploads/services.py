"""Adding and deleting uploaded files. The user's Uploads connection is made by the first
upload; every function acts on that owner's own folder and rows only. Indexing is the
drive sync's (connectors/services/files.py): an upload stores the file, lists it as
waiting, and the caller queues a sync."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from connectors.base import Connected, RemoteFile, RemoteSource
from connectors.documents.extract import too_large
from connectors.documents.models import Document
from connectors.documents.results import Skipped
from connectors.documents.sniff import detect_kind
from connectors.models import Connection
from connectors.services import documents as store
from connectors.services.connections import connection_create
from connectors.uploads import storage
from connectors.uploads.kind import SOURCE_ID, SOURCE_NAME, UploadsKind


@dataclass(frozen=True)
class UploadOutcome:
    name: str  # as stored and shown (cleaned)
    added: bool
    message: str = ""  # why it was refused, and what to do


def uploads_connection(*, owner) -> Connection | None:
    return Connection.objects.owned_by(owner).filter(kind=UploadsKind.slug).first()


def uploads_connection_get_or_create(*, owner) -> Connection:
    """The owner's one Uploads connection (the owner's row is locked while looking, so
    two first uploads at once make one)."""
    with transaction.atomic():
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        existing = uploads_connection(owner=owner)
        if existing is not None:
            return existing
        return connection_create(
            owner=owner,
            kind=UploadsKind.slug,
            connected=Connected(
                label="Uploads", display_url="", config={"owner": owner.pk}, secrets={},
                sources=[RemoteSource(remote_id=SOURCE_ID, name=SOURCE_NAME)],
            ),
        )  # fmt: skip


def _refused(name: str, message: str) -> UploadOutcome:
    return UploadOutcome(name=name, added=False, message=message)


def upload_add(
    *,
    connection: Connection,
    name: str,
    blocks: Iterable[bytes],
    size: int | None,
    content_type: str = "",
) -> UploadOutcome:
    """Store one uploaded file, streamed in blocks, if it can be read: not empty, not over
    DOCUMENT_MAX_BYTES, a format the extractor reads (by its bytes, as a sync decides).
    It is listed at once as waiting; the caller queues the sync that reads it."""
    name = storage.clean_name(name)
    max_bytes = settings.DOCUMENT_MAX_BYTES
    if size is not None and size > max_bytes:
        return _refused(name, too_large(size, max_bytes).message)
    if size == 0:
        return _refused(name, "This file is empty: there is nothing to read.")
    owner_id = connection.owner_id
    try:
        part, written, sha256 = storage.part_write(owner_id, blocks, max_bytes=max_bytes)
    except storage.TooLarge:
        return _refused(name, too_large(None, max_bytes).message)
    try:
        if written == 0:
            return _refused(name, "This file is empty: there is nothing to read.")
        kind = detect_kind(part, filename=name, mime_type=content_type or None)
        if isinstance(kind, Skipped):
            return _refused(name, kind.message)
        stored = storage.part_keep(
            owner_id, part, name=name, size=written, sha256=sha256, mime_type=content_type
        )
    finally:
        part.unlink(missing_ok=True)  # kept files were moved away already
    source = connection.sources.get(remote_id=SOURCE_ID)
    store.documents_pending(
        source=source,
        files=[RemoteFile(remote_id=stored.key, path=stored.name, revision="", size=written,
                          mime_type=stored.mime_type, modified_at=stored.uploaded_at)],
    )  # fmt: skip
    return UploadOutcome(name=name, added=True)


def upload_delete(*, document: Document) -> None:
    """Delete an uploaded file now: its bytes, its row and its passages (no sync needed).
    The caller checked that the document is the user's own, in their Uploads."""
    storage.file_delete(document.owner_id, document.remote_id)
    store.documents_delete(ids=[document.pk])
