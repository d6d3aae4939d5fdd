"""A team with one person per role, plus a former member and an outsider, all made through
the services (as the pages would)."""

from __future__ import annotations

import pytest

from assistant.teams.models import Role
from assistant.teams.services import team_create, team_leave
from tests.assistant.teams.personas import People, join, person


@pytest.fixture
def people(db) -> People:
    owner = person("tess-owner")
    team = team_create(actor=owner, name="Lighthouse")
    admin, member, former = person("ada-admin"), person("max-member"), person("fay")
    join(team, owner, admin, Role.ADMIN)
    join(team, owner, member)
    join(team, owner, former)
    team_leave(actor=former, team=team)
    return People(team, owner, admin, member, former, person("otto-outsider"))
