"""Personal API tokens: what lets editors, scripts and other chat clients act as a user.

Registered in the assistant app (assistant/models.py imports this module). The token
itself is shown once, when it is made; only its SHA-256 is stored (a token is 32 random
bytes, so a fast hash is as safe as a slow one), found by its public prefix.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils import timezone


class ApiTokenQuerySet(models.QuerySet):
    def owned_by(self, user) -> ApiTokenQuerySet:
        return self.filter(user=user)

    def usable(self) -> ApiTokenQuerySet:
        """Neither revoked nor expired."""
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    class Scope(models.TextChoices):
        CHAT = "chat", "Chat (the OpenAI-compatible endpoint)"
        MEMORY_READ = "memory:read", "Read memories, conversations and connections"
        MEMORY_WRITE = "memory:write", "Write memories (MCP writes go to the review inbox)"
        MEMORY_WRITE_DIRECT = (
            "memory:write:direct",
            "Write memories directly (MCP writes skip the review inbox)",
        )

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    # The `team:<id>` scope: the token reaches this team's memory and sources too (while
    # its user is a member), and the team's admins can see and revoke it.
    team = models.ForeignKey(
        "assistant.Team",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="api_tokens",
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Public part, for lookup.")
    secret_hash = models.CharField(max_length=64, help_text="SHA-256 (hex) of the whole token.")
    scopes = ArrayField(models.CharField(max_length=32), default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["team", "-created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()
