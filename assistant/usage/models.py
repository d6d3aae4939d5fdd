"""Model usage: one row per model call (chat, API, background work), for the usage page,
cost estimates and the tokens-per-day limits. Registered in the assistant app."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class UsageRecordQuerySet(models.QuerySet):
    def owned_by(self, user) -> UsageRecordQuerySet:
        return self.filter(user=user)

    def of_team(self, team) -> UsageRecordQuerySet:
        return self.filter(team=team)


class UsageRecord(models.Model):
    class Kind(models.TextChoices):
        CHAT = "chat", "Chat"
        API = "api", "API"
        SUMMARY = "summary", "Session summary"
        EXTRACTION = "extraction", "Memory extraction"
        EVENT_PROPOSAL = "event_proposal", "Event proposal"
        OTHER = "other", "Other"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="usage_records"
    )
    # The team the call was made in (a team chat, a team-scoped token): its usage page
    # and its limits count it. Null: personal.
    team = models.ForeignKey(
        "assistant.Team",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_records",
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    model = models.CharField(max_length=200, blank=True)
    profile = models.CharField(max_length=32, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    message = models.ForeignKey(
        "assistant.Message",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_records",
    )
    api_token = models.ForeignKey(
        "assistant.ApiToken",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="usage_records",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = UsageRecordQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "created_at"]),
            models.Index(fields=["team", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.model} {self.prompt_tokens}+{self.completion_tokens}"
