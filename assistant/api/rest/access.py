"""Who a REST request acts as, and in whose space: the token's principal, its scopes, and
the space a route works in (the token's user's own, or with `space=team` the team its
`team:<id>` scope reaches).

A team space is memory/spaces.Space, built here from the membership read now (as the team
pages build it from the active team, assistant/teams/spaces.py): members read and propose,
admins manage. The routes then call the same selectors and services as the pages, with
`space.owner` first in every query and `space.can_manage` before every change.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest

from assistant.api.models import ApiToken
from assistant.api.tokens import ApiPrincipal
from assistant.teams.models import Membership, Role, role_at_least
from memory.spaces import Space, personal_space

SpaceName = Literal["personal", "team"]

READ = ApiToken.Scope.MEMORY_READ.value
WRITE = ApiToken.Scope.MEMORY_WRITE.value


class ApiProblem(Exception):
    """A refusal with a status, a stable code and a message for people (rendered in the
    one error shape by the API's exception handler)."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def principal_of(request: HttpRequest) -> ApiPrincipal:
    """The principal the API's auth put on the request (every route is authenticated)."""
    principal = getattr(request, "auth", None)
    if not isinstance(principal, ApiPrincipal):  # pragma: no cover - auth runs first
        raise ApiProblem(401, "missing_token", "Send an API token: Authorization: Bearer rk_…")
    return principal


def scoped(request: HttpRequest, scope: str) -> ApiPrincipal:
    """The principal, if its token has `scope` (403 insufficient_scope otherwise)."""
    principal = principal_of(request)
    principal.require(scope)
    return principal


def space_for(principal: ApiPrincipal, space: str) -> Space:
    """The space a route works in: the token's user's own, or the team the token reaches
    (its user a member now; a former member gets 404, as on the team pages)."""
    if space != "team":
        return personal_space(principal.user)
    if principal.token.team_id is None:
        raise ApiProblem(
            403, "no_team_scope", "This token has no team scope; make one that reaches a team."
        )
    team = principal.team
    membership = Membership.objects.filter(team=team, user=principal.user).first() if team else None
    if team is None or membership is None:
        raise ApiProblem(404, "not_found", "You are not a member of this token's team.")
    return Space(
        owner=team.account,
        actor=principal.user,
        label=team.name,
        team_id=team.pk,
        can_manage=role_at_least(membership.role, Role.ADMIN),
        can_propose=True,
    )


def read_space(request: HttpRequest, space: str) -> Space:
    """memory:read, and the space asked for."""
    return space_for(scoped(request, READ), space)


def write_space(request: HttpRequest, space: str) -> Space:
    """memory:write, and a space the user may manage (a team's admins; 403 for a member)."""
    managed = space_for(scoped(request, WRITE), space)
    if not managed.can_manage:
        raise ApiProblem(403, "team_admin_required", "This needs the admin role in the team.")
    return managed
