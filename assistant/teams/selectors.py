"""Reads for teams: the one permission-checked getter, a user's teams, the active team.

team_get_for_user is the only way a view reaches a team: a non-member gets 404 (whether
the team exists is not revealed), a member without the role gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404
from django.utils import timezone

from assistant.account_models import AccountSettings
from assistant.teams.models import (
    Invitation,
    Membership,
    MembershipQuerySet,
    Role,
    Team,
    role_at_least,
)


def team_get_for_user(user, pk: int, role: str = Role.MEMBER) -> tuple[Team, Membership]:
    """The team `pk` and the user's membership in it, if they hold at least `role`."""
    if not user.is_authenticated:
        raise Http404("No such team.")
    membership = Membership.objects.select_related("team").filter(team_id=pk, user=user).first()
    if membership is None:
        raise Http404("No such team.")
    if not role_at_least(membership.role, role):
        raise PermissionDenied(f"This needs the {Role(role).label.lower()} role in this team.")
    return membership.team, membership


def teams_for_user(*, user) -> MembershipQuerySet:
    """The user's memberships with their teams and member counts, by team name."""
    return (
        Membership.objects.of_user(user)
        .select_related("team")
        .annotate(member_count=models.Count("team__memberships"))
        .order_by("team__name", "team_id")
    )


def members_of(*, team: Team) -> models.QuerySet[Membership]:
    order = models.Case(
        *(models.When(role=r, then=models.Value(i)) for i, r in enumerate(Role.values)),
        output_field=models.IntegerField(),
    )
    return team.memberships.select_related("user").order_by(order, "joined_at", "id")


def invitations_pending(*, team: Team) -> models.QuerySet[Invitation]:
    return team.invitations.pending(now=timezone.now()).select_related("created_by")


@dataclass(frozen=True)
class ActiveContext:
    """What the chat works in: a team (with the user's role there) or personal space."""

    team: Team | None
    role: str = ""

    @property
    def is_personal(self) -> bool:
        return self.team is None

    @property
    def label(self) -> str:
        return self.team.name if self.team else "Personal"


PERSONAL = ActiveContext(team=None)


def active_context_for_user(user) -> ActiveContext:
    """The user's active team, checked against their memberships now: a user removed from
    a team is back in personal space at once (the stored choice is not trusted)."""
    if not user.is_authenticated:
        return PERSONAL
    membership = (
        Membership.objects.select_related("team")
        .filter(
            user=user,
            team_id=models.Subquery(
                AccountSettings.objects.filter(user=user).values("active_team_id")[:1]
            ),
        )
        .first()
    )
    if membership is None:
        return PERSONAL
    return ActiveContext(team=membership.team, role=membership.role)


def active_team_for(request) -> Team | None:
    """The team the request's user works in now, or None for personal space. Cached on
    the request: later code (team memory retrieval, team sources) asks this, never the
    stored setting."""
    cached = getattr(request, "_active_context", None)
    if cached is None:
        cached = active_context_for_user(request.user)
        request._active_context = cached
    return cached.team


def active_context_for(request) -> ActiveContext:
    active_team_for(request)
    return request._active_context


def conversation_shared_owner_ids(conversation) -> tuple[int, ...]:
    """Whose things a turn of this conversation may read besides its owner's: the account
    of the team it was started in, while the owner is still a member (checked now, so a
    member removed mid-conversation loses the team's memory and sources at once)."""
    if conversation.team_id is None:
        return ()
    return tuple(
        Team.objects.filter(
            pk=conversation.team_id, memberships__user_id=conversation.owner_id
        ).values_list("account_id", flat=True)
    )
