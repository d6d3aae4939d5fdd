"""Conversations and connections over the REST API."""

from __future__ import annotations

import pytest
from django.test import Client

from assistant.background.syncs import connection_sync_enqueue
from assistant.models import Conversation
from assistant.teams.models import Role
from connectors.models import Connection
from tests.assistant.api.rest_world import (
    assert_error,
    call,
    conversation_with_messages,
    token_for,
    world_create,
)
from tests.document_factories import document_add, folder_create
from tests.factories import user_create

pytestmark = pytest.mark.django_db

RW = ["memory:read", "memory:write"]


@pytest.fixture
def user(db):
    return user_create("olivia", password=None)


@pytest.fixture
def raw(user):
    return token_for(user, RW)


def test_conversations_list_filter_by_channel_and_page(client, user, raw):
    web = [conversation_with_messages(user, title=f"Web {n}") for n in range(3)]
    api = conversation_with_messages(user, channel="api", title="From my editor")
    conversation_with_messages(user_create("ben", password=None), title="Not mine")
    everything = call(client, "get", "/api/conversations", raw).json()
    assert everything["total"] == 4
    assert everything["items"][0]["id"] == api.pk  # most recently active first
    only_api = call(client, "get", "/api/conversations?channel=api", raw).json()
    assert [(c["id"], c["channel"]) for c in only_api["items"]] == [(api.pk, "api")]
    page = call(client, "get", "/api/conversations?channel=web&limit=2", raw).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and "offset=2" in page["next"]
    rest = call(client, "get", page["next"], raw).json()
    assert {c["id"] for c in page["items"] + rest["items"]} == {c.pk for c in web}
    assert_error(call(client, "get", "/api/conversations?channel=fax", raw), 400)


def test_a_conversation_with_its_messages(client, user, raw):
    conversation = conversation_with_messages(user, title="Dogs")
    body = call(client, "get", f"/api/conversations/{conversation.pk}", raw).json()
    assert body["title"] == "Dogs" and body["channel"] == "web"
    question, answer = body["messages"]
    assert (question["role"], question["content"]) == ("user", "Hello there")
    assert answer["role"] == "assistant" and answer["reasoning"] == "A greeting."
    assert (answer["model"], answer["prompt_tokens"], answer["completion_tokens"]) == (
        "scripted-fast",
        12,
        3,
    )
    assert {"status", "error", "created_at"} <= set(answer)


def test_delete_a_conversation(client, user, raw):
    conversation = conversation_with_messages(user)
    response = call(client, "delete", f"/api/conversations/{conversation.pk}", raw)
    assert response.status_code == 204
    assert not Conversation.objects.filter(pk=conversation.pk).exists()
    again = call(client, "delete", f"/api/conversations/{conversation.pk}", raw)
    assert_error(again, 404, "not_found")


def test_connections_with_their_counts_and_status(client, user, raw):
    folder = folder_create(user, "Notes")
    document_add(folder, "/Notes/a.md", ["First passage", "Second passage"])
    connection = folder.connection
    Connection.objects.filter(pk=connection.pk).update(last_error="Server said 503")
    listed = call(client, "get", "/api/connections", raw).json()
    assert [c["id"] for c in listed] == [connection.pk]
    one = call(client, "get", f"/api/connections/{connection.pk}", raw).json()
    assert one["counts"]["source"] == 1 and one["counts"]["document"] == 1
    assert one["last_error"] == "Server said 503"
    assert one["sync"]["pending"] is False and one["status"] == "active"


def test_sync_now_queues_one_sync_and_a_second_is_409(client, user, raw):
    connection = Connection.objects.create(owner=user, kind="webdav", label="Drive")
    first = call(client, "post", f"/api/connections/{connection.pk}/sync", raw)
    assert first.status_code == 202, first.content
    body = first.json()
    assert body["status"] == "queued" and body["connection"]["id"] == connection.pk
    # The background home's queue (the registered hook) now holds a waiting run.
    assert call(client, "get", f"/api/connections/{connection.pk}", raw).json()["sync"]["pending"]
    assert_error(
        call(client, "post", f"/api/connections/{connection.pk}/sync", raw), 409, "already_syncing"
    )


def test_sync_now_of_a_paused_connection_is_409(client, user, raw, syncs):
    connection = Connection.objects.create(
        owner=user, kind="webdav", label="Drive", status="paused", paused_reason="Bad password"
    )
    response = call(client, "post", f"/api/connections/{connection.pk}/sync", raw)
    assert_error(response, 409, "paused")
    assert syncs == []


def test_a_running_sync_is_409(client, user, raw):
    connection = Connection.objects.create(owner=user, kind="webdav", label="Drive")
    connection_sync_enqueue(connection=connection)
    response = call(client, "post", f"/api/connections/{connection.pk}/sync", raw)
    assert_error(response, 409, "already_syncing")


@pytest.mark.parametrize(("role", "sync"), [(Role.MEMBER, 403), (Role.ADMIN, 202)])
def test_a_teams_connections(db, syncs, role, sync):
    world = world_create(role=role)
    shared = Connection.objects.create(owner=world.team.account, kind="webdav", label="Team drive")
    raw = token_for(world.user, RW, team=world.team)
    listed = call(Client(), "get", "/api/connections?space=team", raw).json()
    assert [c["id"] for c in listed] == [shared.pk]
    got = call(Client(), "get", f"/api/connections/{shared.pk}?space=team", raw)
    assert got.status_code == 200
    assert_error(call(Client(), "get", f"/api/connections/{shared.pk}", raw), 404)
    response = call(Client(), "post", f"/api/connections/{shared.pk}/sync?space=team", raw)
    assert response.status_code == sync
    assert syncs == ([shared.pk] if sync == 202 else [])
