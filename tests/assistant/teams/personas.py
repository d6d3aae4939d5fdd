"""Helpers for the teams tests: people without passwords, invitations, joining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.teams.invitations import invitation_accept, invitation_create
from assistant.teams.models import Role, Team
from tests.factories import user_create


@dataclass
class People:
    team: Team
    owner: Any
    admin: Any
    member: Any
    former: Any
    outsider: Any

    def get(self, persona: str) -> Any:
        return getattr(self, persona)


def person(username: str):
    """A user without a password (tests sign in with force_login; no slow hashing)."""
    return user_create(username, password=None)


def issue(team: Team, actor, role: str = Role.MEMBER, email: str = ""):
    """An invitation; returns (invitation, token)."""
    issued = invitation_create(
        actor=actor, team=team, role=role, email=email, link_for=lambda token: f"/join/{token}"
    )
    return issued.invitation, issued.link.rsplit("/", 1)[1]


def join(team: Team, inviter, user, role: str = Role.MEMBER):
    return invitation_accept(user=user, token=issue(team, inviter, role)[1])
