"""The REST API in a team's space for five people: the owner, an admin, a member, a former
member and an outsider, each with a token reaching the team (the former member's made
while a member; the outsider's forged onto the team, which no page allows). Every route
that works in a team's space has a row (read from the API: a new one without a row fails).
Members read and propose, admins change; a former member and an outsider get 404, and
nothing changes for them. Also: every named URL under /api/ has a row."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from assistant.api.models import ApiToken
from assistant.api.rest.api import api
from assistant.api.tokens import token_create
from assistant.background.models import TaskRun
from connectors.models import Connection
from memory.models import MemoryItem
from memory.services import memory_export, memory_forget
from tests.assistant.api.rest_world import assert_error, call
from tests.assistant.teams.conftest import people  # noqa: F401 (the personas fixture)
from tests.assistant.teams.personas import People, url_names
from tests.factories import remember

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")
READS = (200, 200, 200, 404, 404)
ADMIN_WRITES = (200, 200, 403, 404, 404)


@dataclass
class Team:
    people: People
    memory: MemoryItem
    connection: Connection


Build = Callable[[Team, object], tuple[str, object]]


def _memory(suffix: str = "", body: object = None, *, forgotten: bool = False) -> Build:
    def build(team: Team, user) -> tuple[str, object]:
        item = team.memory
        if forgotten:
            item = remember(team.people.team.account, "Old door code 4411.")
            memory_forget(item=item, actor="user", changed_by=team.people.owner)
        return f"/api/memories/{item.pk}{suffix}?space=team", body

    return build


def _fixed(url: str, body: object = None) -> Build:
    return lambda team, user: (url, body)


def _import(team: Team, user) -> tuple[str, object]:
    data = memory_export(owner=team.people.outsider)
    data["items"] = [{"text": "Imported for the team.", "kind": "fact"}]
    return "/api/memories/import?space=team", data


def _own_memory(team: Team, user) -> tuple[str, object]:
    return (
        f"/api/memories/{remember(user, 'My own tip: use the back door.').pk}/propose-to-team",
        None,
    )


def _connection(suffix: str = "") -> Build:
    return lambda team, user: (f"/api/connections/{team.connection.pk}{suffix}?space=team", None)


ROWS: dict[tuple[str, str], tuple[Build, tuple[int, ...]]] = {
    ("GET", "/api/memories"): (_fixed("/api/memories?space=team"), READS),
    ("POST", "/api/memories"): (
        _fixed("/api/memories?space=team", {"text": "Standup at 9."}),
        (201, 201, 403, 404, 404),
    ),
    ("GET", "/api/memories/search"): (_fixed("/api/memories/search?q=wifi&space=team"), READS),
    ("GET", "/api/memories/export"): (_fixed("/api/memories/export?space=team"), ADMIN_WRITES),
    ("POST", "/api/memories/import"): (_import, ADMIN_WRITES),
    ("GET", "/api/memories/{memory_id}"): (_memory(), READS),
    ("PATCH", "/api/memories/{memory_id}"): (_memory("", {"text": "Wifi: LH-6G."}), ADMIN_WRITES),
    ("POST", "/api/memories/{memory_id}/pin"): (_memory("/pin"), ADMIN_WRITES),
    ("POST", "/api/memories/{memory_id}/unpin"): (_memory("/unpin"), ADMIN_WRITES),
    ("POST", "/api/memories/{memory_id}/forget"): (_memory("/forget"), ADMIN_WRITES),
    ("POST", "/api/memories/{memory_id}/unforget"): (
        _memory("/unforget", forgotten=True),
        ADMIN_WRITES,
    ),
    ("GET", "/api/memories/{memory_id}/history"): (_memory("/history"), READS),
    ("POST", "/api/memories/{memory_id}/propose-edit"): (
        _memory("/propose-edit", {"text": "Wifi: Lighthouse-7G."}),
        (201, 201, 201, 404, 404),
    ),
    ("POST", "/api/memories/{memory_id}/propose-to-team"): (
        _own_memory,
        (201, 201, 201, 404, 404),
    ),
    ("GET", "/api/connections"): (_fixed("/api/connections?space=team"), READS),
    ("GET", "/api/connections/{connection_id}"): (_connection(), READS),
    ("POST", "/api/connections/{connection_id}/sync"): (
        _connection("/sync"),
        (202, 202, 403, 404, 404),
    ),
}


def team_routes() -> set[tuple[str, str]]:
    """Routes that take `space` (and those that only work in a team's space)."""
    found = set()
    for route, operations in api.get_openapi_schema()["paths"].items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", [])}
            if "space" in names or "propose" in route:
                found.add((method.upper(), route))
    return found


def test_every_team_route_has_a_row():
    assert team_routes() == set(ROWS)


def _token(crew: People, persona: str) -> str:
    user = crew.get(persona)
    if persona in ("former", "outsider"):
        token, raw = token_create(user=user, name="t", scopes=["memory:read", "memory:write"])
        ApiToken.objects.filter(pk=token.pk).update(team=crew.team)
        return raw
    scopes = ["memory:read", "memory:write"]
    return token_create(user=user, name="t", scopes=scopes, team=crew.team)[1]


@pytest.fixture
def team(people, syncs) -> Team:  # noqa: F811
    account = people.team.account
    return Team(
        people=people,
        memory=remember(account, "The office wifi is Lighthouse-5G.", changed_by=people.owner),
        connection=Connection.objects.create(owner=account, kind="webdav", label="Team drive"),
    )


def _state(team: Team) -> tuple:
    account = team.people.team.account
    items = MemoryItem.objects.filter(owner=account).order_by("pk")
    return (
        list(items.values_list("pk", "text", "status", "pinned", "deleted_at")),
        TaskRun.objects.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(("method", "route"), sorted(ROWS))
def test_team_routes(team, syncs, method, route, persona):
    build, statuses = ROWS[method, route]
    expected = dict(zip(PERSONAS, statuses, strict=True))[persona]
    raw = _token(team.people, persona)
    url, body = build(team, team.people.get(persona))
    before = _state(team)
    response = call(Client(), method, url, raw, body)
    if expected >= 400:
        assert_error(response, expected)
        assert _state(team) == before
        assert syncs == []
    else:
        assert response.status_code == expected, response.content[:300]


# -- every named URL under /api/ -----------------------------------------------------------

URL_ROWS = {
    "rest:api-root": 200,
    "rest:openapi-json": 200,
    "rest:openapi-view": 200,
    "rest:not-found": 404,
}


def test_every_api_url_name_has_a_row():
    """The routes' names are covered by the matrices above (by path); the rest are here."""
    operation_names = {
        f"rest:{entry.name}"
        for entry in api.urls[0]
        if getattr(entry, "name", None) not in ("api-root", "openapi-json", "openapi-view")
    }
    assert url_names("rest") == operation_names | set(URL_ROWS)


@pytest.mark.parametrize("name", sorted(URL_ROWS))
def test_the_api_urls_without_a_token(client, name):
    url = reverse(name, kwargs={"rest": "nowhere"} if name == "rest:not-found" else {})
    response = client.get(url)
    assert response.status_code == URL_ROWS[name]
    if name == "rest:api-root":
        assert response.json()["docs"] == "/api/docs"
