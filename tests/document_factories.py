"""Synced files for tests, made the way a drive sync leaves them (rows with real
embeddings from the memory model; no WebDAV server)."""

from __future__ import annotations

from typing import Any

from connectors.documents.models import Document, DocumentChunk
from connectors.models import Connection, Source
from memory.embedding import configured_model_name, embed_texts


def folder_create(owner: Any, name: str = "Documents", *, included: bool = True) -> Source:
    """A top-level folder of a (new) WebDAV connection."""
    connection = Connection.objects.create(owner=owner, kind="webdav", label=f"{name} drive")
    return Source.objects.create(
        owner=owner, connection=connection, remote_id=f"/{name}/", name=name, included=included
    )


def document_add(
    source: Source,
    path: str,
    passages: list[str | tuple[str, dict]],
    *,
    status: str = Document.Status.INDEXED,
    web_url: str = "",
) -> Document:
    """An indexed file cut into `passages` (text, or (text, {heading, page}))."""
    document = Document.objects.create(
        owner=source.owner, connection=source.connection, source=source, path=path,
        remote_id=path, status=status, chunk_count=len(passages), web_url=web_url,
    )  # fmt: skip
    texts = [p if isinstance(p, str) else p[0] for p in passages]
    vectors = embed_texts(texts)
    model = configured_model_name()
    offset = 0
    for ordinal, (passage, vector) in enumerate(zip(passages, vectors, strict=True)):
        text, extra = (passage, {}) if isinstance(passage, str) else passage
        DocumentChunk.objects.create(
            owner=source.owner, document=document, ordinal=ordinal, text=text, start=offset,
            end=offset + len(text), embedding=vector, embedding_model=model, **extra,
        )  # fmt: skip
        offset += len(text)
    return document
