"""What the assistant remembers about a user, and every change made to it.

Rows are written only through memory.services (no invariants live in save() or
signals); reads go through `MemoryItem.objects.owned_by(user)` first.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.db.models.functions import Cast
from django.utils import timezone
from pgvector.django import HalfVectorField, HnswIndex, VectorField

from memory.tags import memory_citation

# The text-search configuration of the generated column; queries must use the same one.
SEARCH_CONFIG = "english"


class Kind(models.TextChoices):
    PREFERENCE = "preference", "Preference"
    FACT = "fact", "Fact"
    PLAN = "plan", "Plan"
    INSTRUCTION = "instruction", "Instruction"
    PROFILE = "profile", "Profile"
    EVENT = "event", "Event"  # something that happened, e.g. a conversation turn
    SUMMARY = "summary", "Conversation summary"  # written by the background summariser


class Status(models.TextChoices):
    ACTIVE = "active", "Active"
    PROPOSED = "proposed", "Proposed"  # waiting in the review inbox
    ARCHIVED = "archived", "Archived"


class Source(models.TextChoices):
    STATED = "stated", "Stated by the user"
    MESSAGE = "message", "From a message"
    EXTRACTED = "extracted", "Extracted by the assistant"
    IMPORTED = "imported", "Imported"
    CONNECTOR = "connector", "From a connector"
    PROMOTED = "promoted", "Promoted to the team"
    BENCHMARK = "benchmark", "Benchmark"


class Actor(models.TextChoices):
    USER = "user", "User"
    ASSISTANT = "assistant", "Assistant"
    SYSTEM = "system", "System"
    IMPORT = "import", "Import"


class MemoryItemQuerySet(models.QuerySet):
    def owned_by(self, user) -> MemoryItemQuerySet:
        return self.filter(owner=user)

    def visible(self) -> MemoryItemQuerySet:
        """Not forgotten (soft-forgotten items wait for undo; tombstones stay hidden)."""
        return self.filter(deleted_at__isnull=True)

    def forgotten(self) -> MemoryItemQuerySet:
        return self.filter(deleted_at__isnull=False, redacted_at__isnull=True)

    def with_status(self, *statuses: str) -> MemoryItemQuerySet:
        return self.visible().filter(status__in=statuses)

    def active(self) -> MemoryItemQuerySet:
        return self.with_status(Status.ACTIVE)

    def proposed(self) -> MemoryItemQuerySet:
        return self.with_status(Status.PROPOSED)


class MemoryItem(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_items"
    )
    text = models.TextField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FACT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.STATED)

    # Provenance: where and when this came from.
    source_message = models.ForeignKey(
        "assistant.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="memory_items",
    )
    quote = models.TextField(blank=True, help_text="The words the memory was taken from.")
    source_ref = models.CharField(
        max_length=255, blank=True, help_text="External id: a connector item, a benchmark turn."
    )
    thread_key = models.CharField(
        max_length=255,
        blank=True,
        help_text="The conversation, session or document this came from. Items sharing it "
        "are neighbours in time, and retrieval may bring a strong hit's neighbours along.",
    )
    occurred_at = models.DateTimeField(
        null=True, blank=True, help_text="When the remembered thing happened or was said."
    )
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_to = models.DateTimeField(null=True, blank=True)

    pinned = models.BooleanField(default=False)
    last_used_at = models.DateTimeField(null=True, blank=True)
    use_count = models.PositiveIntegerField(default=0)
    confidence = models.FloatField(null=True, blank=True)
    supersedes = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    # Shared (team) memory is proposed by a member and approved by an admin: who did
    # each, and the personal memory a promotion was copied from (never shown to others).
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    promoted_from = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="promotions",
    )

    embedding = VectorField(dimensions=settings.EMBEDDING_DIM, null=True, blank=True)
    embedding_model = models.CharField(max_length=255, blank=True)
    search = models.GeneratedField(
        expression=SearchVector("text", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(
        null=True, blank=True, help_text="Forgotten (kept for undo until forgotten for good)."
    )
    redacted_at = models.DateTimeField(
        null=True, blank=True, help_text="Forgotten for good: text, quote and vector erased."
    )

    objects = MemoryItemQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "status"], name="memory_owner_status"),
            models.Index(fields=["owner", "thread_key", "occurred_at"], name="memory_thread"),
            # Owner first inside the GIN index too (btree_gin): a user's full-text matches
            # are found without touching other users' postings.
            GinIndex(fields=["owner", "search"], name="memory_owner_search_gin"),
            # The graph holds half-precision copies of the vectors: half the size of a
            # float32 graph (1.1 GB against 1.95 GB at a million rows), so it stays in
            # the cache as memories grow; results are re-ranked on the float32 vectors
            # (memory/search/sql.py). Queries must use the same expression.
            HnswIndex(
                OpClass(
                    Cast("embedding", HalfVectorField(dimensions=settings.EMBEDDING_DIM)),
                    name="halfvec_cosine_ops",
                ),
                name="memory_embedding_halfvec_hnsw",
                m=16,
                ef_construction=64,
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(confidence__isnull=True)
                | models.Q(confidence__gte=0, confidence__lte=1),
                name="memory_confidence_0_1",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.tag} {self.text[:60]}"

    @property
    def tag(self) -> str:
        """How the chat cites this memory, e.g. "[m:42]" (see memory/tags.py)."""
        return memory_citation(self.pk)

    @property
    def is_forgotten(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_redacted(self) -> bool:
        return self.redacted_at is not None


class MemoryRevision(models.Model):
    """One change to one memory item: what it said before and after, who, and why."""

    item = models.ForeignKey(MemoryItem, on_delete=models.CASCADE, related_name="revisions")
    old_text = models.TextField(blank=True)
    new_text = models.TextField(blank=True)
    old_status = models.CharField(max_length=16, blank=True)
    new_status = models.CharField(max_length=16, blank=True)
    actor = models.CharField(max_length=16, choices=Actor.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.TextField(blank=True)
    # Set on history copied from an import file: who made that change where the file came
    # from. `actor` is then "import", so none of it reads as an edit made here.
    source_actor = models.CharField(max_length=16, blank=True, choices=Actor.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["item", "created_at"], name="memory_revision_item")]

    def __str__(self) -> str:
        return f"revision {self.pk} of item {self.item_id} by {self.actor}"


class MemorySettings(models.Model):
    """Per-user memory switches, shown on the memory page."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memory_settings"
    )
    paused = models.BooleanField(
        default=False, help_text="While paused, memory is neither read into chats nor written."
    )
    auto_accept_extracted = models.BooleanField(
        default=False,
        help_text="Memories the assistant extracts go live at once instead of the review inbox.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "memory settings"

    def __str__(self) -> str:
        return f"Memory settings of {self.owner}"


class SessionSummary(models.Model):
    """A rolling summary of one stretch of a conversation (messages first..last).

    Its text and vector live on a MemoryItem of kind "summary", so memory_search finds
    it like any memory; this row keeps what it covers and what it cost.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_summaries"
    )
    conversation = models.ForeignKey(
        "assistant.Conversation", on_delete=models.CASCADE, related_name="summaries"
    )
    memory = models.OneToOneField(
        MemoryItem, on_delete=models.CASCADE, related_name="session_summary"
    )
    first_message_id = models.PositiveBigIntegerField()
    last_message_id = models.PositiveBigIntegerField()
    message_count = models.PositiveIntegerField()
    started_at = models.DateTimeField(help_text="When the first covered message was written.")
    ended_at = models.DateTimeField(help_text="When the last covered message was written.")
    model = models.CharField(max_length=200, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["conversation", "last_message_id"]
        verbose_name_plural = "session summaries"
        indexes = [
            models.Index(fields=["conversation", "-last_message_id"], name="summary_latest"),
        ]
        constraints = [
            # A range is summarised once: a re-run after a crash cannot add a second copy.
            models.UniqueConstraint(
                fields=["conversation", "last_message_id"], name="summary_once_per_range"
            ),
            models.CheckConstraint(
                condition=models.Q(first_message_id__lte=models.F("last_message_id")),
                name="summary_range_ordered",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"summary of conversation {self.conversation_id} through message {self.last_message_id}"
        )
