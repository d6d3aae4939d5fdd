"""Conversations and messages: every row belongs to one user."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from inference.fencing import fence_cite
from memory.search import BACKGROUND_SIGNALS


class ConversationQuerySet(models.QuerySet):
    def owned_by(self, user) -> ConversationQuerySet:
        return self.filter(owner=user)


class Conversation(models.Model):
    class Channel(models.TextChoices):
        WEB = "web", "Browser"
        API = "api", "API"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversations"
    )
    title = models.CharField(max_length=200, blank=True)
    profile = models.CharField(max_length=32, default="fast")
    incognito = models.BooleanField(
        default=False, help_text="Incognito conversations neither read nor write memory."
    )
    # The team this conversation was started in (the user's active team then): its turns
    # also read the team's memory and sources while the owner is still a member, and the
    # team's settings (profiles, extraction, retention) apply. The conversation itself
    # stays private to its owner.
    team = models.ForeignKey(
        "assistant.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    # Where it was started: the browser, or a client of the OpenAI-compatible API (with
    # the token it used, kept for the record after the token is revoked or deleted).
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.WEB)
    api_token = models.ForeignKey(
        "assistant.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="conversations",
    )
    # The system message an API client sent: added to our instructions (after them),
    # never in place of the memory fence's rules.
    instructions = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Background summaries (assistant/background/pipeline.py). Written only with conditional
    # UPDATEs, never through save(), so a chat turn saving the row cannot clobber them.
    summarised_through = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Id of the last message a session summary covers."
    )
    summary_claimed_until = models.DateTimeField(
        null=True, blank=True, help_text="A worker is summarising this conversation until then."
    )
    summary_claimed_by = models.CharField(max_length=64, blank=True)
    summary_error = models.TextField(blank=True, help_text="Why the last summary failed.")
    summary_failed_at = models.DateTimeField(null=True, blank=True)

    objects = ConversationQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"])]

    def __str__(self) -> str:
        return self.title or f"Conversation {self.pk}"

    @property
    def display_title(self) -> str:
        return self.title or "New conversation"


class MessageQuerySet(models.QuerySet):
    def owned_by(self, user) -> MessageQuerySet:
        return self.filter(conversation__owner=user)


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "User"
        ASSISTANT = "assistant", "Assistant"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to start"
        STREAMING = "streaming", "Streaming"
        COMPLETE = "complete", "Complete"
        CANCELLED = "cancelled", "Stopped"
        ERROR = "error", "Failed"

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField(blank=True)
    # The model's visible reasoning: shown to the user, never sent back to the model.
    reasoning = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.COMPLETE)
    error = models.TextField(blank=True, help_text="Why the answer failed or stopped.")
    cancel_requested = models.BooleanField(default=False)
    profile = models.CharField(max_length=32, blank=True)
    model = models.CharField(max_length=200, blank=True)
    backend_url = models.CharField(max_length=500, blank=True)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    ttft_ms = models.PositiveIntegerField(null=True, blank=True, help_text="Time to first token.")
    reasoning_ms = models.PositiveIntegerField(null=True, blank=True)
    total_ms = models.PositiveIntegerField(null=True, blank=True)
    # The exact prompt sent for this answer and its token estimate per part, for the
    # context inspector ("what did the model see?").
    prompt_messages = models.JSONField(default=list, blank=True)
    prompt_parts = models.JSONField(default=list, blank=True)
    # Sampling an API client asked for ({"max_tokens": 200, "temperature": 0.2}), within
    # the profile's own limits; empty for browser turns.
    request_options = models.JSONField(default=dict, blank=True)
    memory_note = models.CharField(
        max_length=200, blank=True, help_text="Why no memory was used (incognito, paused)."
    )
    finish_reason = models.CharField(
        max_length=32, blank=True, help_text="Why the model stopped: stop, length, ..."
    )
    continues_previous = models.BooleanField(
        default=False, help_text="Continues the answer before it, which was cut off."
    )
    # Written with every flush of a streaming answer; a stale one has lost its producer.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = MessageQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "created_at"])]
        constraints = [
            # Two quick clicks on Send or Regenerate must not start two answers.
            models.UniqueConstraint(
                fields=["conversation"],
                condition=models.Q(role="assistant", status__in=["pending", "streaming"]),
                name="one_open_answer_per_conversation",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} #{self.pk}"

    @property
    def is_user(self) -> bool:
        return self.role == self.Role.USER

    @property
    def is_open(self) -> bool:
        """Still being produced (or about to be)."""
        return self.status in (self.Status.PENDING, self.Status.STREAMING)

    @property
    def can_retry(self) -> bool:
        return self.role == self.Role.ASSISTANT and self.status in (
            self.Status.ERROR,
            self.Status.CANCELLED,
        )

    @property
    def cut_off(self) -> bool:
        """Finished because it hit the length limit, not because it was done."""
        return self.status == self.Status.COMPLETE and self.finish_reason == "length"

    @property
    def reasoning_seconds(self) -> int:
        return max(1, round((self.reasoning_ms or 0) / 1000))


class ContextItem(models.Model):
    """One thing retrieved for an answer, and whether it was injected into the prompt."""

    class Source(models.TextChoices):
        MEMORY = "memory", "Memory"
        PINNED = "pinned", "Pinned memory"
        EVENT = "event", "Calendar event"
        DOCUMENT = "document", "Document passage"

    answer = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="context_items")
    source = models.CharField(max_length=16, choices=Source.choices)
    memory = models.ForeignKey(
        "memory.MemoryItem", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    event = models.ForeignKey(
        "connectors.Event", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chunk = models.ForeignKey(
        "connectors.DocumentChunk",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    tag = models.CharField(max_length=32, help_text="Stable tag used in the prompt, e.g. m:42.")
    rank = models.PositiveIntegerField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    signals = models.JSONField(default=list, blank=True)
    injected = models.BooleanField(default=False)
    tokens = models.PositiveIntegerField(default=0)
    text = models.TextField(help_text="The text as it was when retrieved.")

    class Meta:
        ordering = ["answer", "-injected", "rank", "id"]

    def __str__(self) -> str:
        return f"{fence_cite(self.tag)} for answer #{self.answer_id}"

    @property
    def found_by(self) -> list[str]:
        """The signals that explain why this was found (memory's BACKGROUND_SIGNALS left
        out, and the relevance-floor mark, which says why it was not injected)."""
        found = [s for s in self.signals if s not in BACKGROUND_SIGNALS and s != "below_floor"]
        return found or self.signals


# Background work's and the account's models live with their code; importing them here
# registers them in this app.
from assistant.account_models import AccountSettings, EventProposal  # noqa: E402
from assistant.api.models import ApiToken  # noqa: E402
from assistant.background.models import PendingImport, TaskRun  # noqa: E402
from assistant.teams.audit_models import AuditEvent  # noqa: E402
from assistant.teams.models import Invitation, Membership, Team  # noqa: E402
from assistant.usage.models import UsageRecord  # noqa: E402

__all__ = [
    "AccountSettings",
    "ApiToken",
    "AuditEvent",
    "ContextItem",
    "Conversation",
    "EventProposal",
    "Invitation",
    "Membership",
    "Message",
    "PendingImport",
    "TaskRun",
    "Team",
    "UsageRecord",
]
