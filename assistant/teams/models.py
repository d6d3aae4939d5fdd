"""Teams (workspaces), who belongs to them and with which role, and invitations to join.

Registered in the assistant app (assistant/models.py imports this module). Written only by
assistant/teams/services.py and invitations.py; the invariants live there and in the
database (one owner per team: a partial unique index, and a deferred trigger that refuses a
commit leaving a team without an owner, migration 0010).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class Role(models.TextChoices):
    OWNER = "owner", "Owner"
    ADMIN = "admin", "Admin"
    MEMBER = "member", "Member"


# Higher outranks lower: who may change or remove whom, and what a role may do.
RANK = {Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}


def role_at_least(role: str, needed: str) -> bool:
    return RANK[Role(role)] >= RANK[Role(needed)]


class Team(models.Model):
    """A workspace several people share. Personal space is the absence of a team."""

    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)
    # What the team owns (team memory, team connections and their documents and events)
    # is owned by this account, so every owner-first query and index serves teams as
    # they serve people: "this user or this team" is `owner_id IN (user, team account)`.
    # The account cannot sign in (inactive, no password); nobody acts as it: every change
    # to team things is made, checked and audited as the member who made it.
    account = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="team_account"
    )
    # Settings. Admins and the owner may always invite.
    members_may_invite = models.BooleanField(
        default=False, help_text="Whether plain members may invite people (as members)."
    )
    allowed_profiles = models.JSONField(
        default=list,
        blank=True,
        help_text="The model profiles members may use in this team's chats (empty: all).",
    )
    extraction_enabled = models.BooleanField(
        default=True,
        help_text="Whether the assistant extracts memories (into each member's own review "
        "inbox, never into team memory) from chats in this team.",
    )
    chat_retention_days = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Team chats untouched for this many days are deleted (empty: kept).",
    )
    # Limits for everything done in this team (browser, API, MCP); empty: the site's.
    limit_requests_per_minute = models.PositiveIntegerField(null=True, blank=True)
    limit_tokens_per_day = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(models.QuerySet):
    def of_user(self, user) -> MembershipQuerySet:
        return self.filter(user=user)


class Membership(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    # Deleting a user who owns a team is refused at commit (the owner trigger): ownership
    # must be transferred first, or the team deleted.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_membership_once"),
            models.UniqueConstraint(
                fields=["team"], condition=Q(role="owner"), name="team_one_owner"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="team_role_known"
            ),
        ]
        indexes = [models.Index(fields=["user", "team"], name="team_membership_by_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.team} ({self.role})"


class InvitationQuerySet(models.QuerySet):
    def pending(self, *, now) -> InvitationQuerySet:
        return self.filter(used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now)


class Invitation(models.Model):
    """A single-use, expiring, revocable link to join a team with a role.

    Only the SHA-256 of the token is stored; the token itself is in the link, shown once
    to the inviter (and emailed when an address was given).
    """

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(max_length=16, choices=[(Role.ADMIN, "Admin"), (Role.MEMBER, "Member")])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    token_hash = models.CharField(max_length=64, unique=True)
    email = models.EmailField(blank=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    used_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["admin", "member"]), name="invitation_role_not_owner"
            )
        ]

    def __str__(self) -> str:
        return f"invitation to {self.team} as {self.role}"

    def state(self, *, now) -> str:
        if self.used_at:
            return "used"
        if self.revoked_at:
            return "revoked"
        return "expired" if self.expires_at <= now else "pending"
