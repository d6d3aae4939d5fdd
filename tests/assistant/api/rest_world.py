"""What the REST API tests work on: a user with a memory, a conversation and a connection,
another user with the same, and a team the user is a member of (with a team memory); and
how they call the API with a token."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.test import Client

from assistant.api.tokens import token_create
from assistant.models import Conversation, Message
from assistant.teams.models import Role, Team
from assistant.teams.services import team_create
from connectors.models import Connection
from memory.models import MemoryItem
from tests.assistant.teams.personas import join, person
from tests.factories import remember

ALL_SCOPES = ["chat", "memory:read", "memory:write"]


@dataclass
class World:
    user: Any
    other: Any
    team: Team
    team_owner: Any
    memory: MemoryItem
    other_memory: MemoryItem
    team_memory: MemoryItem
    conversation: Conversation
    other_conversation: Conversation
    connection: Connection
    other_connection: Connection


def conversation_with_messages(owner, *, channel: str = "web", title: str = "") -> Conversation:
    conversation = Conversation.objects.create(owner=owner, channel=channel, title=title)
    Message.objects.create(conversation=conversation, role="user", content="Hello there")
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="Hi!",
        reasoning="A greeting.",
        model="scripted-fast",
        prompt_tokens=12,
        completion_tokens=3,
    )
    return conversation


def world_create(*, role: str = Role.MEMBER) -> World:
    user, other, boss = person("olivia"), person("mallory"), person("tess-owner")
    team = team_create(actor=boss, name="Lighthouse")
    join(team, boss, user, role)
    return World(
        user=user,
        other=other,
        team=team,
        team_owner=boss,
        memory=remember(user, "My dog is called Pixel."),
        other_memory=remember(other, "Mallory's locker code is 9911."),
        team_memory=remember(team.account, "The office wifi is Lighthouse-5G.", changed_by=boss),
        conversation=conversation_with_messages(user, title="Dogs"),
        other_conversation=conversation_with_messages(other, title="Secrets"),
        connection=Connection.objects.create(owner=user, kind="webdav", label="My drive"),
        other_connection=Connection.objects.create(owner=other, kind="webdav", label="Theirs"),
    )


def token_for(user, scopes: list[str] | None = None, *, team: Team | None = None) -> str:
    return token_create(user=user, name="tests", scopes=scopes or ALL_SCOPES, team=team)[1]


def call(
    client: Client,
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    **headers: str,
):
    """One API request; `body` is sent as JSON (a str or bytes as is)."""
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    if token is not None:
        extra["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    data: Any = b""
    if body is not None:
        data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.generic(method.upper(), url, data=data, content_type="application/json", **extra)


def assert_error(response, status: int, code: str | None = None) -> dict:
    """The one error shape, with `status` (and `code`)."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert {"type", "code", "message"} <= set(error)
    assert error["message"]
    if code is not None:
        assert error["code"] == code, error
    return error
