"""Whose memory (or connections) a page works on: the user's own, or a team's.

A team's things are owned by the team's account (assistant.teams.models.Team.account), so
the same views, services and owner-first queries serve both. memory never imports
assistant: the composition root resolves a team space (checking the membership and role)
and puts it on the request as `request.space`; without one, a page is personal.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Space:
    owner: Any  # whose rows: the signed-in user, or the team's account
    actor: Any  # who acts: always the signed-in user (revisions and audit name them)
    label: str  # "Personal", or the team's name
    team_id: int | None = None
    can_manage: bool = True  # edit, forget, import, export, approve, connect
    can_propose: bool = False  # a team member proposing a memory or an edit

    @property
    def is_team(self) -> bool:
        return self.team_id is not None


def personal_space(user: Any) -> Space:
    return Space(owner=user, actor=user, label="Personal")


def space_of(request: HttpRequest) -> Space:
    """The space the request works in (set by a team wrapper), else the user's own."""
    space = getattr(request, "space", None)
    return space if space is not None else personal_space(request.user)
