"""Helpers for the teams tests: people without passwords, invitations, joining."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

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


def url_names(namespace: str = "") -> set[str]:
    """Every named URL of the URL conf as "namespace:name" (nested namespaces joined), or
    only those in `namespace`: the permission matrices compare their rows with it, so a new
    URL without a row fails."""

    def walk(patterns, prefix: str) -> set[str]:
        names: set[str] = set()
        for entry in patterns:
            if isinstance(entry, URLResolver):
                space = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
                names |= walk(entry.url_patterns, space)
            elif isinstance(entry, URLPattern) and entry.name:
                names.add(prefix + entry.name)
        return names

    found = walk(get_resolver().url_patterns, "")
    return {name for name in found if name.startswith(f"{namespace}:")} if namespace else found
