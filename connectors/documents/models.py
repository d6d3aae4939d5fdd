"""Files indexed from drives, and the chunks their text was cut into.

Registered in the `connectors` app (imported at the bottom of connectors/models.py).
Rows are written only by connectors/services/files.py; reads filter by owner first:
`Document.objects.owned_by(user)`, `DocumentChunk.objects.owned_by(user)`.

A `Document` is one file of a chosen folder (`Source`), keyed by its `remote_id` there,
with the revision it was read at: the next sync downloads it again only when the drive
reports another revision. Its `content_hash` (of the extracted text) finds it again
after a rename or a move, so its chunks and their vectors are kept. Chunks are stored
and searched like memories: a vector (HNSW over a halfvec cast, cosine) and a generated
full-text column (GIN, owner first).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import MD5, Cast
from django.utils import timezone
from pgvector.django import HalfVectorField, HnswIndex, VectorField

# The text-search configuration of the generated column; queries must use the same one
# (memory.models.SEARCH_CONFIG, repeated: memory's models are not imported here).
SEARCH_CONFIG = "english"


class DocumentQuerySet(models.QuerySet):
    def owned_by(self, user) -> DocumentQuerySet:
        return self.filter(owner=user)


class Document(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be read"
        INDEXED = "indexed", "Indexed"
        SKIPPED = "skipped", "Skipped"  # a SkipReason: too large, no text, ...
        FAILED = "failed", "Failed"  # the download failed: tried again at the next sync

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    connection = models.ForeignKey(
        "connectors.Connection", on_delete=models.CASCADE, related_name="documents"
    )
    source = models.ForeignKey(
        "connectors.Source", on_delete=models.CASCADE, related_name="documents"
    )
    path = models.TextField(help_text="Where the file is, as the user sees it.")
    remote_id = models.TextField(help_text="Its key in the source: href path, file id.")
    revision = models.CharField(max_length=300, blank=True, help_text="ETag or version read.")
    size = models.BigIntegerField(null=True, blank=True)
    mime_type = models.CharField(max_length=255, blank=True)
    content_hash = models.CharField(
        max_length=64, blank=True, help_text="sha256 of the extracted text."
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    skip_reason = models.CharField(max_length=32, blank=True, help_text="A SkipReason code.")
    skip_message = models.TextField(blank=True, help_text="Why, and what to do about it.")
    chunk_count = models.PositiveIntegerField(default=0)
    modified_at = models.DateTimeField(null=True, blank=True, help_text="Changed on the drive.")
    indexed_at = models.DateTimeField(null=True, blank=True)
    web_url = models.TextField(blank=True, help_text="Where the user opens the file.")

    objects = DocumentQuerySet.as_manager()

    class Meta:
        ordering = ["path", "id"]
        constraints = [
            # On a hash of the key: a B-tree entry holds at most ~2.7 kB, and paths of a
            # few thousand (multi-byte) characters exist.
            models.UniqueConstraint(
                models.F("source"), MD5("remote_id"), name="document_unique_remote"
            )
        ]
        indexes = [
            # A renamed or moved file is found by its text (owner first).
            models.Index(fields=["owner", "content_hash"], name="document_owner_hash"),
            models.Index(fields=["owner", "status"], name="document_owner_status"),
        ]

    def __str__(self) -> str:
        return self.path


class DocumentChunkQuerySet(models.QuerySet):
    def owned_by(self, user) -> DocumentChunkQuerySet:
        return self.filter(owner=user)


class DocumentChunk(models.Model):
    """A passage of a document's extracted text: text == extracted[start:end]."""

    # Denormalised from the document so a search filters by owner before any join.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="chunks")
    ordinal = models.PositiveIntegerField(help_text="Its place in the document, from 0.")
    text = models.TextField()
    start = models.PositiveIntegerField(help_text="Character span in the extracted text.")
    end = models.PositiveIntegerField()
    heading = models.TextField(blank=True, help_text='The heading path: "Intro > Setup".')
    page = models.PositiveIntegerField(null=True, blank=True, help_text="PDF page, from 1.")
    embedding = VectorField(dimensions=settings.EMBEDDING_DIM, null=True, blank=True)
    embedding_model = models.CharField(max_length=255, blank=True)
    # Stored in the row, not out of line (migration 0004): BM25 reads it for every
    # candidate passage.
    search = models.GeneratedField(
        expression=SearchVector("text", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = DocumentChunkQuerySet.as_manager()

    class Meta:
        ordering = ["document", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["document", "ordinal"], name="chunk_unique_ordinal")
        ]
        indexes = [
            models.Index(fields=["owner", "document"], name="document_chunk_owner_doc"),
            # Owner first inside the GIN index too (btree_gin, installed by memory's
            # migrations), as memory_owner_search_gin.
            GinIndex(fields=["owner", "search"], name="document_chunk_search_gin"),
            # Half-precision copies in the graph (half its size, same recall at this
            # width); queries cast the same way to use it.
            HnswIndex(
                OpClass(
                    Cast("embedding", HalfVectorField(dimensions=settings.EMBEDDING_DIM)),
                    name="halfvec_cosine_ops",
                ),
                name="document_chunk_embedding_hnsw",
                m=16,
                ef_construction=64,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document_id}#{self.ordinal}"
