"""Changing teams and memberships; every change writes an audit event in its transaction.

Each change to a team's members locks the team's row first (SELECT ... FOR UPDATE), so two
changes to one team run one after the other and every rule below is checked against the
state that will be written, not a stale read. Who may do what:

- the owner: everything; the only one who may transfer ownership or change an admin;
- an admin: invite (any role but owner), change a member's role, remove a member;
- a member: leave, and invite as member when the team allows it (Team.members_may_invite).

A team always has exactly one owner: the owner cannot leave, be removed or be demoted,
only hand ownership over (the database backs this up, migration 0010).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction

from assistant.account_models import AccountSettings
from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import RANK, Membership, Role, Team, role_at_least
from assistant.teams.selectors import team_get_for_user

log = logging.getLogger(__name__)


class TeamError(Exception):
    """A team change that cannot be made, with the reason in words for the page."""


def _locked(team_id: int) -> Team:
    return Team.objects.select_for_update().get(pk=team_id)


def _membership(team: Team, user) -> Membership:
    """The user's membership in a locked team; not a member -> PermissionDenied."""
    found = Membership.objects.filter(team=team, user=user).first()
    if found is None:
        raise PermissionDenied("You are not a member of this team.")
    return found


def _require(membership: Membership, role: str) -> None:
    if not role_at_least(membership.role, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this team.")


def team_account_create(*, name: str):
    """The account a team's memory and connections are owned by (see Team.account):
    inactive and without a password, so nobody can sign in as it."""
    account = get_user_model()(
        username=f"team.{uuid.uuid4().hex}", first_name=name[:150], is_active=False
    )
    account.set_unusable_password()
    account.save()
    return account


def team_create(*, actor, name: str, ip: str | None = None) -> Team:
    """A new team; its creator is its owner."""
    name = name.strip()
    if not name:
        raise TeamError("A team needs a name.")
    if len(name) > (Team._meta.get_field("name").max_length or 0):
        raise TeamError("That name is too long (100 characters at most).")
    with transaction.atomic():
        team = Team.objects.create(name=name, account=team_account_create(name=name))
        Membership.objects.create(team=team, user=actor, role=Role.OWNER)
        audit_record(action=AuditAction.TEAM_CREATED, actor=actor, team=team, target=team, ip=ip)
    return team


_UNCHANGED: Any = object()
RETENTION_MAX_DAYS = 3650  # team chats kept at most ten years when a period is set


def _settings_checked(changes: dict[str, Any]) -> dict[str, Any]:
    """The new values, checked (the form checks them too; the service is the rule)."""
    if "allowed_profiles" in changes:
        chosen = set(changes["allowed_profiles"] or ())
        unknown = chosen - set(settings.MODEL_PROFILES)
        if unknown:
            raise TeamError(f"No such model profile: {', '.join(sorted(unknown))}.")
        changes["allowed_profiles"] = [key for key in settings.MODEL_PROFILES if key in chosen]
    days = changes.get("chat_retention_days")
    if days is not None and not (1 <= days <= RETENTION_MAX_DAYS):
        raise TeamError(f"Keep team chats for 1 to {RETENTION_MAX_DAYS} days, or leave it empty.")
    for field, site_limit, what in (
        ("limit_requests_per_minute", settings.LIMIT_TEAM_REQUESTS_PER_MINUTE, "requests a minute"),
        ("limit_tokens_per_day", settings.LIMIT_TEAM_TOKENS_PER_DAY, "tokens a day"),
    ):
        value = changes.get(field)
        if value is None:
            continue
        if value < 1:
            raise TeamError(
                f"A team's limit of {what} is at least 1; leave it empty for the site's."
            )
        if site_limit and value > site_limit:  # admins tighten the site's limit, never lift it
            raise TeamError(f"This site allows a team at most {site_limit:,} {what}.")
    return changes


def team_settings_update(
    *,
    actor,
    team: Team,
    members_may_invite: bool = _UNCHANGED,
    allowed_profiles: list[str] = _UNCHANGED,
    extraction_enabled: bool = _UNCHANGED,
    chat_retention_days: int | None = _UNCHANGED,
    limit_requests_per_minute: int | None = _UNCHANGED,
    limit_tokens_per_day: int | None = _UNCHANGED,
    ip: str | None = None,
) -> Team:
    """The team's settings (admins and the owner); arguments left out stay as they are.
    The audit event records the values that changed (none changed: no event)."""
    given = {
        "members_may_invite": members_may_invite,
        "allowed_profiles": allowed_profiles,
        "extraction_enabled": extraction_enabled,
        "chat_retention_days": chat_retention_days,
        "limit_requests_per_minute": limit_requests_per_minute,
        "limit_tokens_per_day": limit_tokens_per_day,
    }
    changes = _settings_checked({k: v for k, v in given.items() if v is not _UNCHANGED})
    with transaction.atomic():
        locked = _locked(team.pk)
        _require(_membership(locked, actor), Role.ADMIN)
        changed = {k: v for k, v in changes.items() if getattr(locked, k) != v}
        if changed:
            for field, value in changed.items():
                setattr(locked, field, value)
            locked.save(update_fields=list(changed))
            audit_record(
                action=AuditAction.TEAM_SETTINGS_CHANGED, actor=actor, team=locked,
                target=locked, detail=changed, ip=ip,
            )  # fmt: skip
    return locked


def member_remove(*, actor, team: Team, member: Membership, ip: str | None = None) -> None:
    """Remove someone from the team (an admin removes members, the owner anyone but
    themselves). Their access to team things ends with the commit."""
    with transaction.atomic():
        locked = _locked(team.pk)
        mine = _membership(locked, actor)
        _require(mine, Role.ADMIN)
        target = Membership.objects.filter(pk=member.pk, team=locked).first()
        if target is None:
            raise TeamError("That person is no longer in this team.")
        if target.user_id == actor.pk:
            raise TeamError("To leave the team, use Leave.")
        if target.role == Role.OWNER:
            raise TeamError("The owner cannot be removed.")
        if RANK[Role(target.role)] >= RANK[Role(mine.role)]:
            raise PermissionDenied("Only the owner can remove an admin.")
        target.delete()
        audit_record(
            action=AuditAction.MEMBER_REMOVED, actor=actor, team=locked,
            target_type="user", target_id=target.user_id,
            detail={"user": target.user.get_username(), "role": target.role}, ip=ip,
        )  # fmt: skip


def member_role_change(
    *, actor, team: Team, member: Membership, role: str, ip: str | None = None
) -> Membership:
    """Make a member an admin or an admin a member. An admin may change members only; the
    owner may change anyone else. Ownership moves only by ownership_transfer."""
    if role not in (Role.ADMIN, Role.MEMBER):
        raise TeamError("A role is admin or member (ownership is transferred, not assigned).")
    with transaction.atomic():
        locked = _locked(team.pk)
        mine = _membership(locked, actor)
        _require(mine, Role.ADMIN)
        target = Membership.objects.filter(pk=member.pk, team=locked).first()
        if target is None:
            raise TeamError("That person is no longer in this team.")
        if target.role == Role.OWNER:
            raise TeamError("The owner's role changes only by transferring ownership.")
        if target.user_id == actor.pk:
            raise TeamError("You cannot change your own role.")
        if RANK[Role(target.role)] >= RANK[Role(mine.role)]:
            raise PermissionDenied("Only the owner can change an admin's role.")
        if target.role == role:
            return target
        before = target.role
        target.role = role
        target.save(update_fields=["role"])
        audit_record(
            action=AuditAction.MEMBER_ROLE_CHANGED, actor=actor, team=locked,
            target_type="user", target_id=target.user_id,
            detail={"user": target.user.get_username(), "from": before, "to": role}, ip=ip,
        )  # fmt: skip
    return target


def team_leave(*, actor, team: Team, ip: str | None = None) -> None:
    """Leave a team. The owner must transfer ownership first."""
    with transaction.atomic():
        locked = _locked(team.pk)
        mine = _membership(locked, actor)
        if mine.role == Role.OWNER:
            raise TeamError("You own this team: transfer ownership to someone else first.")
        mine.delete()
        audit_record(
            action=AuditAction.MEMBER_LEFT, actor=actor, team=locked,
            target_type="user", target_id=actor.pk, detail={"role": mine.role}, ip=ip,
        )  # fmt: skip


def ownership_transfer(
    *, actor, team: Team, member: Membership, ip: str | None = None
) -> Membership:
    """Hand the team to another member; the former owner stays on as an admin."""
    with transaction.atomic():
        locked = _locked(team.pk)
        mine = _membership(locked, actor)
        _require(mine, Role.OWNER)
        target = Membership.objects.filter(pk=member.pk, team=locked).first()
        if target is None:
            raise TeamError("That person is no longer in this team.")
        if target.pk == mine.pk:
            raise TeamError("You already own this team.")
        # Demote first: the one-owner index is checked row by row.
        mine.role = Role.ADMIN
        mine.save(update_fields=["role"])
        before = target.role
        target.role = Role.OWNER
        target.save(update_fields=["role"])
        audit_record(
            action=AuditAction.OWNERSHIP_TRANSFERRED, actor=actor, team=locked,
            target_type="user", target_id=target.user_id,
            detail={"to": target.user.get_username(), "to_was": before}, ip=ip,
        )  # fmt: skip
    return target


def active_team_switch(*, user, team_id: int | None) -> Team | None:
    """Work in a team (its id) or in personal space (None). A team the user is not in is
    refused with Http404 by the getter, and nothing is stored."""
    team = team_get_for_user(user, team_id)[0] if team_id is not None else None
    AccountSettings.objects.update_or_create(user=user, defaults={"active_team": team})
    return team


def team_join_default(*, user, team: str) -> Membership | None:
    """Put a first-time single sign-on user into the default team (OIDC_DEFAULT_TEAM: the
    team's id or its exact name), as a member. A missing or ambiguous team is logged and
    skipped: sign-in never fails for it. Someone already in the team keeps their role."""
    found = Team.objects.filter(pk=int(team)) if team.isdigit() else Team.objects.filter(name=team)
    matches = list(found[:2])
    if len(matches) != 1:
        log.warning("default team %r: %d teams match, nobody joined", team, len(matches))
        return None
    with transaction.atomic():
        locked = _locked(matches[0].pk)
        membership, created = Membership.objects.get_or_create(
            team=locked, user=user, defaults={"role": Role.MEMBER}
        )
        if created:
            audit_record(
                action=AuditAction.MEMBER_JOINED, actor=user, team=locked,
                target_type="user", target_id=user.pk, detail={"role": "member", "via": "sso"},
            )  # fmt: skip
    return membership
