"""The audit log: an append-only record of who did what to a team and its shared things.

Append-only twice: here (the QuerySet's update()/delete() and the model's delete() raise,
save() refuses a row that exists) and in PostgreSQL (migration 0010: a trigger raises on
UPDATE or DELETE of the table; TRUNCATE, which tests use to empty databases, is left alone).

The actor and the team are plain ids with their names copied in, not foreign keys: history
outlives the people and teams it names, and no ON DELETE SET NULL update ever has to get
past the trigger. Rows are written through assistant.teams.audit.audit_record only.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditAction(models.TextChoices):
    TEAM_CREATED = "team.created", "Team created"
    TEAM_SETTINGS_CHANGED = "team.settings_changed", "Team settings changed"
    MEMBER_JOINED = "member.joined", "Member joined"
    MEMBER_LEFT = "member.left", "Member left"
    MEMBER_REMOVED = "member.removed", "Member removed"
    MEMBER_ROLE_CHANGED = "member.role_changed", "Role changed"
    OWNERSHIP_TRANSFERRED = "ownership.transferred", "Ownership transferred"
    INVITATION_CREATED = "invitation.created", "Invitation created"
    INVITATION_REVOKED = "invitation.revoked", "Invitation revoked"
    # Memory and connections (assistant/teams/receivers.py). Personal ones have no team.
    MEMORY_CREATED = "memory.created", "Memory created"
    MEMORY_EDITED = "memory.edited", "Memory edited"
    MEMORY_PINNED = "memory.pinned", "Memory pinned"
    MEMORY_UNPINNED = "memory.unpinned", "Memory unpinned"
    MEMORY_FORGOTTEN = "memory.forgotten", "Memory forgotten"
    MEMORY_UNFORGOTTEN = "memory.unforgotten", "Memory forget undone"
    MEMORY_ERASED = "memory.erased", "Memory forgotten for good"
    MEMORY_APPROVED = "memory.approved", "Memory approved"
    MEMORY_REJECTED = "memory.rejected", "Memory rejected"
    MEMORY_PROPOSED = "memory.proposed", "Memory proposed to the team"
    MEMORY_EDIT_PROPOSED = "memory.edit_proposed", "Edit proposed"
    MEMORY_EXPORTED = "memory.exported", "Memory exported"
    MEMORY_IMPORTED = "memory.imported", "Memory imported"
    CONNECTION_CONNECTED = "connection.connected", "Source connected"
    CONNECTION_RECONNECTED = "connection.reconnected", "Source reconnected"
    CONNECTION_DISCONNECTED = "connection.disconnected", "Source disconnected"
    CONNECTION_SYNCED = "connection.synced", "Source synced"
    CONNECTION_SYNC_FAILED = "connection.sync_failed", "Source sync failed"
    CHATS_EXPIRED = "chats.expired", "Team chats deleted by retention"
    # API tokens (assistant/api/). A token reaching a team is recorded in the team's log.
    TOKEN_CREATED = "token.created", "API token created"
    TOKEN_REVOKED = "token.revoked", "API token revoked"
    # New values need no change of the table (choices are not a database constraint),
    # only a migration recording the choices.


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Audit events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Audit events cannot be deleted.")

    def for_team(self, team_id: int) -> AuditEventQuerySet:
        return self.filter(team_id=team_id)

    def for_user(self, user_id: int) -> AuditEventQuerySet:
        """What happened to this user's personal things, and what they did themselves."""
        return self.filter(models.Q(owner_id=user_id) | models.Q(actor_id=user_id))


class AuditEvent(models.Model):
    at = models.DateTimeField(default=timezone.now)
    actor_id = models.BigIntegerField(null=True, blank=True, help_text="The user's id (no FK).")
    actor_name = models.CharField(max_length=150, blank=True)
    team_id = models.BigIntegerField(null=True, blank=True, help_text="The team's id (no FK).")
    team_name = models.CharField(max_length=100, blank=True)
    owner_id = models.BigIntegerField(
        null=True, blank=True, help_text="Whose personal memory or source it is (no FK)."
    )
    action = models.CharField(max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["team_id", "-at"], name="audit_team_at"),
            models.Index(fields=["actor_id", "-at"], name="audit_actor_at"),
            models.Index(fields=["owner_id", "-at"], name="audit_owner_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name or '-'} {self.action}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Audit events cannot be changed.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Audit events cannot be deleted.")
