"""Invitations: a single-use, expiring, revocable link to join a team with a role.

The link carries a random token; only its SHA-256 is stored, so a copy of the database
holds no usable link. Accepting claims the invitation with one conditional UPDATE (still
unused, not revoked, not expired): of two people accepting at once exactly one wins, and
the loser changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone

from assistant.teams.audit import audit_record
from assistant.teams.audit_models import AuditAction
from assistant.teams.models import Invitation, Membership, Role, Team, role_at_least
from assistant.teams.services import TeamError

log = logging.getLogger(__name__)


class InvitationError(TeamError):
    """An invitation link that cannot be used, with the reason in words, and the HTTP
    status the join page answers with (404: no such link; 410: used, withdrawn, expired;
    409: already a member)."""

    def __init__(self, message: str, *, status: int = 410):
        super().__init__(message)
        self.status = status


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invitation_lifetime() -> timedelta:
    return timedelta(days=getattr(settings, "TEAM_INVITATION_DAYS", 7))


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str  # shown once to the inviter; never stored
    email_error: str = ""  # why the email could not be sent ("" when sent or not asked)


def may_invite(*, team: Team, membership: Membership) -> bool:
    return role_at_least(membership.role, Role.ADMIN) or team.members_may_invite


def invitation_create(
    *,
    actor,
    team: Team,
    role: str = Role.MEMBER,
    email: str = "",
    link_for: Callable[[str], str],
    ip: str | None = None,
) -> IssuedInvitation:
    """A new invitation; `link_for(token)` makes the absolute join link. With an email
    address the link is also sent there (after the commit; a failed send keeps the
    invitation and says so, and the inviter can pass the link on themselves)."""
    if role not in (Role.ADMIN, Role.MEMBER):
        raise TeamError("An invitation grants admin or member (ownership is transferred).")
    email = email.strip()
    if email:
        try:
            validate_email(email)
        except Exception as error:
            raise TeamError("That email address is not valid.") from error
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        mine = Membership.objects.filter(team=locked, user=actor).first()
        if mine is None:
            raise PermissionDenied("You are not a member of this team.")
        if not may_invite(team=locked, membership=mine):
            raise PermissionDenied("Only admins may invite people to this team.")
        if role == Role.ADMIN and not role_at_least(mine.role, Role.ADMIN):
            raise PermissionDenied("Only admins may invite admins.")
        invitation = Invitation.objects.create(
            team=locked, role=role, created_by=actor, token_hash=token_hash(token),
            email=email, expires_at=timezone.now() + invitation_lifetime(),
        )  # fmt: skip
        audit_record(
            action=AuditAction.INVITATION_CREATED, actor=actor, team=locked,
            target=invitation, detail={"role": role, "email": email}, ip=ip,
        )  # fmt: skip
    link = link_for(token)
    email_error = ""
    if email:
        email_error = _invitation_email_send(invitation=invitation, actor=actor, link=link)
    return IssuedInvitation(invitation=invitation, link=link, email_error=email_error)


def _invitation_email_send(*, invitation: Invitation, actor, link: str) -> str:
    who = actor.get_full_name() or actor.get_username()
    body = (
        f"{who} invites you to join the team {invitation.team.name!r} as "
        f"{invitation.get_role_display().lower()}.\n\nOpen this link to join (it works once, "
        f"until {invitation.expires_at:%Y-%m-%d %H:%M %Z}):\n{link}\n"
    )
    try:
        send_mail(
            subject=f"Join {invitation.team.name}",
            message=body,
            from_email=None,  # DEFAULT_FROM_EMAIL
            recipient_list=[invitation.email],
        )
    except Exception as error:  # SMTP refusals, DNS, timeouts: all reported, none fatal
        log.warning("invitation %s: email not sent: %s", invitation.pk, error)
        return f"The email could not be sent ({error}). Share the link yourself."
    return ""


def invitation_for_token(token: str) -> Invitation:
    """The invitation a link names, if it can still be used; otherwise InvitationError
    saying why (not valid, used, revoked, expired). Reads only."""
    invitation = (
        Invitation.objects.select_related("team").filter(token_hash=token_hash(token)).first()
    )
    if invitation is None:
        raise InvitationError("This invitation link is not valid. Ask for a new one.", status=404)
    state = invitation.state(now=timezone.now())
    if state != "pending":
        raise InvitationError(_STATE_WORDS[state])
    return invitation


_STATE_WORDS = {
    "used": "This invitation has already been used. Ask for a new one.",
    "revoked": "This invitation was withdrawn. Ask for a new one.",
    "expired": "This invitation has expired. Ask for a new one.",
}


def invitation_accept(*, user, token: str, ip: str | None = None) -> Membership:
    """Join the team the link invites to. Someone already in the team keeps their role and
    the invitation stays unused."""
    invitation = invitation_for_token(token)
    try:
        with transaction.atomic():
            if Membership.objects.filter(team_id=invitation.team_id, user=user).exists():
                raise InvitationError(
                    f"You are already a member of {invitation.team.name}.", status=409
                )
            now = timezone.now()
            claimed = Invitation.objects.filter(
                pk=invitation.pk, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
            ).update(used_at=now, used_by=user)
            if claimed != 1:  # someone else used it, or it was revoked or ran out meanwhile
                invitation.refresh_from_db()
                raise InvitationError(_STATE_WORDS[invitation.state(now=now)])
            membership = Membership.objects.create(
                team_id=invitation.team_id, user=user, role=invitation.role
            )
            audit_record(
                action=AuditAction.MEMBER_JOINED, actor=user, team=invitation.team,
                target=invitation, detail={"role": invitation.role}, ip=ip,
            )  # fmt: skip
    except IntegrityError as error:  # joined by another link at the same moment
        raise InvitationError(
            f"You are already a member of {invitation.team.name}.", status=409
        ) from error
    return membership


def invitation_revoke(*, actor, team: Team, invitation: Invitation, ip: str | None = None) -> None:
    """Withdraw a pending invitation (admins, or whoever created it)."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        mine = Membership.objects.filter(team=locked, user=actor).first()
        if mine is None:
            raise PermissionDenied("You are not a member of this team.")
        own = invitation.created_by_id == actor.pk
        if not (own or role_at_least(mine.role, Role.ADMIN)):
            raise PermissionDenied("Only admins may withdraw others' invitations.")
        revoked = Invitation.objects.filter(
            pk=invitation.pk, team=locked, used_at__isnull=True, revoked_at__isnull=True
        ).update(revoked_at=timezone.now())
        if revoked != 1:
            raise TeamError("That invitation was already used or withdrawn.")
        audit_record(
            action=AuditAction.INVITATION_REVOKED, actor=actor, team=locked,
            target=invitation, detail={"role": invitation.role, "email": invitation.email}, ip=ip,
        )  # fmt: skip
