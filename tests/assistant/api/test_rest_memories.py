"""Memories over the REST API: pages and filters, search with the chat's retriever, the
changes and their revisions, export and import (a bad file changes nothing), and a team's
memory under the team pages' rules (members read and propose, admins change)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from assistant.background.models import TaskRun
from assistant.teams.models import Role
from assistant.teams.services import team_leave
from memory.models import MemoryItem, Status
from memory.services import memory_export
from tests.assistant.api.rest_world import assert_error, call, token_for, world_create
from tests.factories import remember, remember_many, user_create

pytestmark = pytest.mark.django_db

RW = ["memory:read", "memory:write"]


@pytest.fixture
def user(db):
    return user_create("olivia", password=None)


@pytest.fixture
def raw(user):
    return token_for(user, RW)


def test_the_list_pages_with_total_and_next(client, user, raw):
    remember_many(user, [f"Fact number {n}" for n in range(25)])
    first = call(client, "get", "/api/memories?limit=10", raw).json()
    assert (first["total"], first["limit"], first["offset"]) == (25, 10, 0)
    assert len(first["items"]) == 10 and first["next"].endswith("limit=10&offset=10")
    seen = [item["id"] for item in first["items"]]
    page = first
    while page["next"]:
        page = call(client, "get", page["next"], raw).json()
        seen += [item["id"] for item in page["items"]]
    assert len(seen) == len(set(seen)) == 25
    assert page["offset"] == 20 and page["next"] is None


def test_the_list_filters(client, user, raw):
    pinned = remember(user, "I take the 8:15 train.", kind="plan", pinned=True)
    fact = remember(user, "My sister lives in Porto.")
    proposed = remember(user, "Maybe likes jazz.", status=Status.PROPOSED)

    def ids(query: str) -> set[int]:
        response = call(client, "get", f"/api/memories?{query}", raw)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids("") == {pinned.pk, fact.pk}  # active and archived, not the inbox
    assert ids("kind=plan") == {pinned.pk}
    assert ids("pinned=true") == {pinned.pk}
    assert ids("pinned=false") == {fact.pk}
    assert ids("status=proposed") == {proposed.pk}
    assert ids("q=porto") == {fact.pk}
    call(client, "post", f"/api/memories/{fact.pk}/forget", raw)
    assert ids("") == {pinned.pk}
    assert ids("status=forgotten") == {fact.pk}


def test_search_uses_the_chat_retriever(client, user, raw):
    remember(user, "My dog is called Pixel.")
    remember(user, "The car needs new tyres.")
    body = call(client, "get", "/api/memories/search?q=what is my dog called", raw).json()
    assert body["hits"][0]["memory"]["text"] == "My dog is called Pixel."
    assert body["hits"][0]["rank"] == 1 and body["hits"][0]["signals"]


def test_create_edit_pin_forget_undo_and_history(client, user, raw):
    made = call(client, "post", "/api/memories", raw, {"text": "I like tea.", "kind": "preference"})
    assert made.status_code == 201
    memory = made.json()
    assert (memory["kind"], memory["source"], memory["space"]) == (
        "preference",
        "stated",
        "personal",
    )
    url = f"/api/memories/{memory['id']}"
    edited = call(client, "patch", url, raw, {"text": "I like green tea.", "pinned": True}).json()
    assert (edited["text"], edited["pinned"]) == ("I like green tea.", True)
    assert call(client, "post", f"{url}/unpin", raw).json()["pinned"] is False
    assert call(client, "post", f"{url}/forget", raw).json()["forgotten"] is True
    assert_error(call(client, "patch", url, raw, {"text": "x"}), 409, "forgotten")
    assert call(client, "post", f"{url}/unforget", raw).json()["forgotten"] is False
    history = call(client, "get", f"{url}/history", raw).json()
    assert history[-1]["new_text"] == "I like tea." and history[0]["changed_by"] == "olivia"
    assert any(rev["new_text"] == "I like green tea." for rev in history)
    # Forgotten for good: the text is gone everywhere, and undo is refused.
    gone = call(client, "post", f"{url}/forget?permanently=true", raw).json()
    assert gone["text"] == "" and "green" not in json.dumps(
        call(client, "get", f"{url}/history", raw).json()
    )
    assert_error(call(client, "post", f"{url}/unforget", raw), 409, "conflict")


def test_an_empty_text_is_400(client, user, raw):
    assert_error(call(client, "post", "/api/memories", raw, {"text": ""}), 400)
    assert_error(call(client, "post", "/api/memories", raw, {"text": "   "}), 400)
    assert not MemoryItem.objects.exists()


def test_export_then_import_elsewhere(client, user, raw):
    remember_many(user, ["Alpha fact", "Beta fact"])
    exported = call(client, "get", "/api/memories/export", raw).json()
    assert exported == {**memory_export(owner=user), "exported_at": exported["exported_at"]}
    other = user_create("ben", password=None)
    theirs = token_for(other, RW)
    first = call(client, "post", "/api/memories/import", theirs, exported).json()
    assert (first["status"], first["added"], first["skipped"]) == ("imported", 2, 0)
    again = call(client, "post", "/api/memories/import", theirs, exported).json()
    assert (again["added"], again["skipped"]) == (0, 2)
    assert MemoryItem.objects.filter(owner=other).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        "{broken",
        "",
        "[1, 2, 3]",
        json.dumps({"format": "something else", "items": []}),
        "BAD_RECORD",
    ],
)
def test_a_malformed_import_is_400_and_changes_nothing(client, user, raw, body):
    remember(user, "Already here.")
    if body == "BAD_RECORD":
        data = memory_export(owner=user_create("ann", password=None))
        good = {"text": "Fine one", "kind": "fact"}
        data["items"] = [good, {"text": "", "kind": "fact"}]
        body = json.dumps(data)
    before = list(MemoryItem.objects.values_list("pk", "text", "status"))
    response = call(client, "post", "/api/memories/import", raw, body)
    error = assert_error(response, 400)
    assert "Nothing was imported" in error["message"]
    assert list(MemoryItem.objects.values_list("pk", "text", "status")) == before


def test_an_import_over_the_size_limit_is_413(client, user, raw, settings):
    settings.MEMORY_IMPORT_MAX_BYTES = 1024
    data = memory_export(owner=user)
    data["items"] = [{"text": "x" * 600, "kind": "fact"}, {"text": "y" * 600, "kind": "fact"}]
    assert_error(call(client, "post", "/api/memories/import", raw, data), 413, "too_large")
    assert not MemoryItem.objects.exists()


def test_a_big_import_goes_to_the_background(client, user, raw, settings):
    settings.MEMORY_IMPORT_SYNC_MAX_ITEMS = 1
    data = memory_export(owner=user)
    data["items"] = [{"text": "One", "kind": "fact"}, {"text": "Two", "kind": "fact"}]
    response = call(client, "post", "/api/memories/import", raw, data)
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["count"]) == ("queued", 2)
    run = TaskRun.objects.get(pk=body["run_id"])
    assert run.kind == TaskRun.Kind.IMPORT and run.owner == user
    assert not MemoryItem.objects.exists()  # the worker imports it


# -- a team's memory -----------------------------------------------------------------------


def _team_call(world, method, url, body=None, scopes=None):
    raw = token_for(world.user, scopes or RW, team=world.team)
    return call(Client(), method, url, raw, body)


def test_a_member_reads_the_teams_memory_and_proposes_but_does_not_change_it(db):
    world = world_create(role=Role.MEMBER)
    item = world.team_memory
    listed = _team_call(world, "get", "/api/memories?space=team").json()
    assert [m["id"] for m in listed["items"]] == [item.pk] and listed["items"][0]["space"] == "team"
    assert _team_call(world, "get", f"/api/memories/{item.pk}?space=team").status_code == 200
    for method, url, body in (
        ("post", "/api/memories?space=team", {"text": "Members cannot add."}),
        ("patch", f"/api/memories/{item.pk}?space=team", {"text": "Changed"}),
        ("post", f"/api/memories/{item.pk}/pin?space=team", None),
        ("post", f"/api/memories/{item.pk}/forget?space=team", None),
        ("get", "/api/memories/export?space=team", None),
        ("post", "/api/memories/import?space=team", memory_export(owner=world.other)),
    ):
        assert_error(_team_call(world, method, url, body), 403, "team_admin_required")
    item.refresh_from_db()
    assert (item.text, item.pinned, item.deleted_at) == (
        "The office wifi is Lighthouse-5G.",
        False,
        None,
    )
    proposed = _team_call(
        world, "post", f"/api/memories/{item.pk}/propose-edit", {"text": "Wifi: Lighthouse-6G."}
    )
    assert proposed.status_code == 201
    assert proposed.json()["status"] == "proposed" and proposed.json()["supersedes_id"] == item.pk
    inbox = _team_call(world, "get", "/api/memories?space=team&status=proposed").json()
    assert [m["proposed_by"] for m in inbox["items"]] == ["olivia"]
    promoted = _team_call(world, "post", f"/api/memories/{world.memory.pk}/propose-to-team")
    assert promoted.status_code == 201 and promoted.json()["text"] == "My dog is called Pixel."


def test_an_admin_changes_the_teams_memory(db):
    world = world_create(role=Role.ADMIN)
    made = _team_call(world, "post", "/api/memories?space=team", {"text": "Standup is at 9."})
    assert made.status_code == 201
    assert MemoryItem.objects.get(pk=made.json()["id"]).owner == world.team.account
    url = f"/api/memories/{world.team_memory.pk}?space=team"
    assert (
        _team_call(world, "patch", url, {"text": "Wifi: LH-6G."}).json()["text"] == "Wifi: LH-6G."
    )
    assert _team_call(world, "get", "/api/memories/export?space=team").status_code == 200


def test_team_memory_in_personal_space_is_404_and_search_reads_it_like_the_chat(db):
    world = world_create()
    assert_error(_team_call(world, "get", f"/api/memories/{world.team_memory.pk}"), 404)
    hits = _team_call(world, "get", "/api/memories/search?q=office wifi").json()["hits"]
    assert (hits[0]["memory"]["id"], hits[0]["memory"]["space"]) == (world.team_memory.pk, "team")
    personal = call(
        Client(), "get", "/api/memories/search?q=office wifi", token_for(world.user, RW)
    )
    assert world.team_memory.pk not in [h["memory"]["id"] for h in personal.json()["hits"]]
    only_mine = _team_call(world, "get", "/api/memories/search?q=office wifi&space=personal")
    assert world.team_memory.pk not in [h["memory"]["id"] for h in only_mine.json()["hits"]]


def test_without_a_team_scope_or_after_leaving_the_team_is_refused(db):
    world = world_create()
    personal = token_for(world.user, RW)
    assert_error(call(Client(), "get", "/api/memories?space=team", personal), 403, "no_team_scope")
    raw = token_for(world.user, RW, team=world.team)
    team_leave(actor=world.user, team=world.team)
    assert_error(call(Client(), "get", "/api/memories?space=team", raw), 404, "not_found")
    # Still the user's own memory, never the team's.
    hits = call(Client(), "get", "/api/memories/search?q=office wifi", raw).json()["hits"]
    assert world.team_memory.pk not in [h["memory"]["id"] for h in hits]
    assert call(Client(), "get", "/api/memories", raw).status_code == 200
