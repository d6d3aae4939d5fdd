"""The scope matrix: every REST route (read from the API itself, so a new route without a
row here fails test_every_route_has_a_row) answers 401 without a token or with a revoked
one, 403 to a token without its scope, its success status with the scope, and 404 (with
nothing changed) for another user's object."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client

from assistant.api.models import ApiToken
from assistant.api.rest.api import api
from assistant.api.tokens import token_create, token_revoke
from assistant.background.models import TaskRun
from assistant.models import Conversation
from memory.models import MemoryItem
from memory.services import memory_export, memory_forget
from tests.assistant.api.rest_world import World, assert_error, call, token_for, world_create

pytestmark = pytest.mark.django_db

READ, WRITE = "memory:read", "memory:write"


@dataclass(frozen=True)
class Row:
    scope: str
    ok: int
    # (url, body) for the user's own object (own=True) or the other user's (own=False)
    request: Callable[[World, bool], tuple[str, object]]
    target: str = ""  # "memory", "conversation", "connection": the 404 check's object


def _memory(suffix: str = "", body: object = None, *, team: bool = False):
    def build(world: World, own: bool) -> tuple[str, object]:
        item = (world.team_memory if team else world.memory) if own else world.other_memory
        return f"/api/memories/{item.pk}{suffix}", body

    return build


def _fixed(url: str, body: object = None):
    return lambda world, own: (url, body)


def _conversation(world: World, own: bool) -> tuple[str, object]:
    target = world.conversation if own else world.other_conversation
    return f"/api/conversations/{target.pk}", None


def _connection(suffix: str = ""):
    def build(world: World, own: bool) -> tuple[str, object]:
        target = world.connection if own else world.other_connection
        return f"/api/connections/{target.pk}{suffix}", None

    return build


def _import(world: World, own: bool) -> tuple[str, object]:
    return "/api/memories/import", memory_export(owner=world.user)


def _unforget(world: World, own: bool) -> tuple[str, object]:
    item = world.memory if own else world.other_memory
    if own:
        memory_forget(item=item, actor="user", changed_by=world.user)
    return f"/api/memories/{item.pk}/unforget", None


ROWS: dict[tuple[str, str], Row] = {
    ("GET", "/api/memories"): Row(READ, 200, _fixed("/api/memories")),
    ("POST", "/api/memories"): Row(WRITE, 201, _fixed("/api/memories", {"text": "New fact"})),
    ("GET", "/api/memories/search"): Row(READ, 200, _fixed("/api/memories/search?q=dog")),
    ("GET", "/api/memories/export"): Row(READ, 200, _fixed("/api/memories/export")),
    ("POST", "/api/memories/import"): Row(WRITE, 200, _import),
    ("GET", "/api/memories/{memory_id}"): Row(READ, 200, _memory(), "memory"),
    ("PATCH", "/api/memories/{memory_id}"): Row(
        WRITE, 200, _memory("", {"text": "My dog is Pixel II."}), "memory"
    ),
    ("POST", "/api/memories/{memory_id}/pin"): Row(WRITE, 200, _memory("/pin"), "memory"),
    ("POST", "/api/memories/{memory_id}/unpin"): Row(WRITE, 200, _memory("/unpin"), "memory"),
    ("POST", "/api/memories/{memory_id}/forget"): Row(WRITE, 200, _memory("/forget"), "memory"),
    ("POST", "/api/memories/{memory_id}/unforget"): Row(WRITE, 200, _unforget, "memory"),
    ("GET", "/api/memories/{memory_id}/history"): Row(READ, 200, _memory("/history"), "memory"),
    ("POST", "/api/memories/{memory_id}/propose-edit"): Row(
        WRITE, 201, _memory("/propose-edit", {"text": "Wifi: Lighthouse-6G."}, team=True), "memory"
    ),
    ("POST", "/api/memories/{memory_id}/propose-to-team"): Row(
        WRITE, 201, _memory("/propose-to-team"), "memory"
    ),
    ("GET", "/api/conversations"): Row(READ, 200, _fixed("/api/conversations")),
    ("GET", "/api/conversations/{conversation_id}"): Row(READ, 200, _conversation, "conversation"),
    ("DELETE", "/api/conversations/{conversation_id}"): Row(
        WRITE, 204, _conversation, "conversation"
    ),
    ("GET", "/api/connections"): Row(READ, 200, _fixed("/api/connections")),
    ("GET", "/api/connections/{connection_id}"): Row(READ, 200, _connection(), "connection"),
    ("POST", "/api/connections/{connection_id}/sync"): Row(
        WRITE, 202, _connection("/sync"), "connection"
    ),
}


def api_routes() -> set[tuple[str, str]]:
    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, ops in schema["paths"].items() for method in ops}


def test_every_route_has_a_row():
    assert api_routes() == set(ROWS)


@pytest.fixture
def world(syncs) -> World:
    return world_create()


CASES = sorted(ROWS)


@pytest.mark.parametrize(("method", "route"), CASES)
def test_no_token_is_401(world, method, route):
    url, body = ROWS[method, route].request(world, True)
    response = call(Client(), method, url, body=body)
    assert_error(response, 401, "missing_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "route"), CASES)
def test_revoked_token_is_401(world, method, route):
    token, raw = token_create(user=world.user, name="old", scopes=[READ, WRITE], team=world.team)
    token_revoke(token=token, by=world.user)
    url, body = ROWS[method, route].request(world, True)
    assert_error(call(Client(), method, url, raw, body), 401, "revoked_token")


@pytest.mark.parametrize(("method", "route"), CASES)
def test_wrong_scope_is_403(world, method, route):
    row = ROWS[method, route]
    # A read token cannot write; a write token without memory:read cannot read.
    scopes = ["chat", READ] if row.scope == WRITE else ["chat", WRITE]
    raw = token_for(world.user, scopes, team=world.team)
    url, body = row.request(world, True)
    assert_error(call(Client(), method, url, raw, body), 403, "insufficient_scope")


@pytest.mark.parametrize(("method", "route"), CASES)
def test_right_scope_succeeds(world, method, route, syncs):
    row = ROWS[method, route]
    raw = token_for(world.user, [row.scope], team=world.team)
    url, body = row.request(world, True)
    response = call(Client(), method, url, raw, body)
    assert response.status_code == row.ok, response.content[:500]
    if route.endswith("/sync"):
        assert syncs == [world.connection.pk]


def _snapshot(world: World, target: str):
    if target == "memory":
        item = MemoryItem.objects.get(pk=world.other_memory.pk)
        return (item.text, item.status, item.pinned, item.deleted_at, item.revisions.count(),
                MemoryItem.objects.filter(promoted_from=item).count())  # fmt: skip
    if target == "conversation":
        conversation = Conversation.objects.filter(pk=world.other_conversation.pk).first()
        return conversation and (conversation.title, conversation.messages.count())
    return TaskRun.objects.count()


@pytest.mark.parametrize(
    ("method", "route"), [case for case in CASES if ROWS[case].target], ids=str
)
def test_another_users_object_is_404_and_unchanged(world, method, route, syncs):
    row = ROWS[method, route]
    raw = token_for(world.user, [READ, WRITE], team=world.team)
    before = _snapshot(world, row.target)
    url, body = row.request(world, False)
    response = call(Client(), method, url, raw, body)
    assert_error(response, 404, "not_found")
    assert _snapshot(world, row.target) == before
    assert syncs == []
    # The other user's own token still sees it as it was.
    theirs = token_for(world.other, [READ])
    if row.target == "memory":
        mine = call(Client(), "GET", f"/api/memories/{world.other_memory.pk}", theirs)
        assert mine.json()["text"] == "Mallory's locker code is 9911."


def test_the_error_bodies_do_not_leak_the_other_users_data(world):
    raw = token_for(world.user, [READ])
    response = call(Client(), "GET", f"/api/memories/{world.other_memory.pk}", raw)
    assert "9911" not in json.dumps(response.json())
    assert ApiToken.objects.filter(user=world.user).count() == 1
