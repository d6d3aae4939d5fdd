"""Writing what a drive sync found: one document at a time, each write one short
transaction, so a sync stopped at any point leaves every document either as it was or
fully replaced (chunks, vectors and the revision they were read from, together).

Called by connectors/services/files.py, which embeds before calling (never inside a
transaction). Rows are keyed by (source, remote_id).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from django.db import transaction
from django.utils import timezone

from connectors.base import RemoteFile
from connectors.documents.chunking import Chunk
from connectors.documents.models import Document, DocumentChunk
from connectors.documents.results import Skipped
from connectors.models import Source


def _file_fields(file: RemoteFile) -> dict:
    return {
        "path": file.path,
        "size": file.size,
        "mime_type": file.mime_type[:255],
        "modified_at": file.modified_at,
        "web_url": file.web_url,
    }


def _at(source: Source, file: RemoteFile):
    return Document.objects.filter(source=source, remote_id=file.remote_id)


def documents_pending(*, source: Source, files: Sequence[RemoteFile]) -> None:
    """Rows for files listed but not read yet (the files page shows them waiting)."""
    Document.objects.bulk_create(
        [
            Document(
                owner_id=source.owner_id,
                connection_id=source.connection_id,
                source=source,
                remote_id=file.remote_id,
                status=Document.Status.PENDING,
                **_file_fields(file),
            )
            for file in files
        ],
        ignore_conflicts=True,  # already stored (a changed file keeps its row until read)
    )


@transaction.atomic
def document_index(
    *,
    source: Source,
    file: RemoteFile,
    digest: str,
    chunks: Sequence[Chunk],
    vectors: np.ndarray,
    model: str,
) -> Document:
    """Store the file's chunks and vectors, replacing what the document held."""
    document = _at(source, file).select_for_update().first()
    values = {
        **_file_fields(file),
        "revision": file.revision,
        "content_hash": digest,
        "status": Document.Status.INDEXED,
        "skip_reason": "",
        "skip_message": "",
        "chunk_count": len(chunks),
        "indexed_at": timezone.now(),
    }
    if document is None:
        document = Document.objects.create(
            owner_id=source.owner_id,
            connection_id=source.connection_id,
            source=source,
            remote_id=file.remote_id,
            **values,
        )
    else:
        document.chunks.all().delete()
        for name, value in values.items():
            setattr(document, name, value)
        document.save(update_fields=list(values))
    DocumentChunk.objects.bulk_create(
        DocumentChunk(
            owner_id=source.owner_id,
            document=document,
            ordinal=number,
            text=chunk.text,
            start=chunk.start,
            end=chunk.end,
            heading=chunk.heading,
            page=chunk.page,
            embedding=vector,
            embedding_model=model,
        )
        for number, (chunk, vector) in enumerate(zip(chunks, vectors, strict=True))
    )
    return document


@transaction.atomic
def document_repoint(*, document_id: int, source: Source, file: RemoteFile) -> None:
    """A renamed or moved file (same text): its document takes the new place, keeping
    its chunks; a row already at that place (waiting, or an older file there) goes."""
    _at(source, file).exclude(pk=document_id).delete()
    Document.objects.filter(pk=document_id).update(
        source=source, remote_id=file.remote_id, revision=file.revision, **_file_fields(file)
    )


def document_touch(*, document_id: int, file: RemoteFile) -> None:
    """A new revision with the same text: only the metadata changes."""
    Document.objects.filter(pk=document_id).update(revision=file.revision, **_file_fields(file))


@transaction.atomic
def document_skip(*, source: Source, file: RemoteFile, skipped: Skipped) -> None:
    """A file that cannot be read (too large, no text, ...): its reason kept, its old
    chunks dropped, not read again until its revision changes."""
    document = _at(source, file).select_for_update().first()
    values = {
        **_file_fields(file),
        "revision": file.revision,
        "content_hash": "",
        "status": Document.Status.SKIPPED,
        "skip_reason": str(skipped.reason),
        "skip_message": skipped.message,
        "chunk_count": 0,
        "indexed_at": timezone.now(),
    }
    if document is None:
        Document.objects.create(
            owner_id=source.owner_id,
            connection_id=source.connection_id,
            source=source,
            remote_id=file.remote_id,
            **values,
        )
        return
    document.chunks.all().delete()
    Document.objects.filter(pk=document.pk).update(**values)


def document_fail(*, source: Source, file: RemoteFile, message: str) -> None:
    """The download failed: said on the file, tried again at the next sync (the revision
    is not taken); chunks from an earlier revision stay searchable meanwhile."""
    values = {"status": Document.Status.FAILED, "skip_reason": "", "skip_message": message}
    if not _at(source, file).update(**values):
        Document.objects.bulk_create(
            [
                Document(
                    owner_id=source.owner_id,
                    connection_id=source.connection_id,
                    source=source,
                    remote_id=file.remote_id,
                    **_file_fields(file),
                    **values,
                )
            ],
            ignore_conflicts=True,
        )


def documents_delete(*, ids: Sequence[int]) -> int:
    """Documents whose files are gone; their chunks go with them. Returns how many."""
    if not ids:
        return 0
    _, counts = Document.objects.filter(pk__in=ids).delete()
    return counts.get(Document._meta.label, 0)


@transaction.atomic
def document_reindex(*, document: Document) -> None:
    """The user asked to read this file again: forget the revision it was read at, so the
    next sync downloads, extracts and embeds it afresh. Its passages stay searchable
    until the new ones replace them. Its folder forgets its listing state too: a kind
    that reads only a changes feed (Google Drive) would never list this file again
    otherwise; a full listing costs no downloads beyond this file."""
    Document.objects.filter(pk=document.pk, owner_id=document.owner_id).update(
        revision="", status=Document.Status.PENDING, skip_reason="", skip_message=""
    )
    Source.objects.filter(pk=document.source_id, owner_id=document.owner_id).update(state={})
