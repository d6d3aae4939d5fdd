"""The MCP server at /mcp: the MCP SDK's own client (streamable HTTP) against a live
server (uvicorn serving assistant.asgi.application, lifespan and all), authenticated by
an API token."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp.client import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

from assistant.api.tokens import token_create, token_revoke
from assistant.embedded import redis_server_binary
from assistant.teams.models import Role
from assistant.teams.services import team_create, team_leave
from memory.models import MemoryItem, Status
from memory.selectors import memory_proposed
from memory.services.preferences import memory_settings_update
from tests.assistant.teams.personas import join
from tests.calendar_factories import calendar_create, event_add
from tests.conftest import serve_asgi
from tests.document_factories import document_add, folder_create
from tests.factories import remember, user_create

TOOLS = {
    "search_memories",
    "list_memories",
    "add_memory",
    "forget_memory",
    "search_documents",
    "search_calendar",
}


@pytest.fixture
def mcp_url(transactional_db):
    from assistant.asgi import application

    with serve_asgi(application) as url:
        yield f"{url}/mcp"


def token_for(user, *scopes: str, team=None) -> str:
    return token_create(user=user, name="editor", scopes=list(scopes), team=team)[1]


def session_run(url: str, raw: str, work: Callable[[ClientSession], Awaitable[Any]]) -> Any:
    """Open an MCP session as the SDK's client does, run `work` in it."""

    async def go() -> Any:
        headers = {"Authorization": f"Bearer {raw}"}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            return await work(session)

    return asyncio.run(go())


def call(url: str, raw: str, tool: str, **arguments: Any):
    """One tool call; its CallToolResult."""
    return session_run(url, raw, lambda session: session.call_tool(tool, arguments))


def data(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content


def error(result) -> str:
    assert result.is_error, result.structured_content
    return result.content[0].text


def test_the_client_lists_the_tools_and_calls_each(mcp_url):
    olivia = user_create("olivia", password=None)
    remember(olivia, "Olivia's sister Ana lives in Porto")
    folder = folder_create(olivia)
    document_add(folder, "/Documents/boat.md", ["The boat's mooring fee is due every March."])
    calendar = calendar_create(olivia)
    soon = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    event_add(calendar, "Dentist appointment", soon)
    raw = token_for(olivia, "memory:read", "memory:write:direct")

    async def every_tool(session: ClientSession) -> dict:
        listed = await session.list_tools()
        results = {"tools": {tool.name for tool in listed.tools}}
        results["search"] = await session.call_tool("search_memories", {"query": "Ana's city"})
        results["list"] = await session.call_tool("list_memories", {})
        results["add"] = await session.call_tool("add_memory", {"text": "Likes green tea"})
        results["docs"] = await session.call_tool("search_documents", {"query": "mooring fee"})
        results["calendar"] = await session.call_tool("search_calendar", {"query": "dentist"})
        return results

    results = session_run(mcp_url, raw, every_tool)
    assert results["tools"] == TOOLS
    found = data(results["search"])["memories"]
    assert found[0]["text"] == "Olivia's sister Ana lives in Porto"
    assert found[0]["space"] == "personal" and found[0]["tag"] == f"m:{found[0]['id']}"
    assert [m["text"] for m in data(results["list"])["memories"]] == [found[0]["text"]]
    added = data(results["add"])["memory"]
    assert added["status"] == "active"
    passages = data(results["docs"])["passages"]
    assert passages[0]["file"] == "/Documents/boat.md"
    assert "mooring fee" in passages[0]["text"]
    events = data(results["calendar"])["events"]
    assert [event["title"] for event in events] == ["Dentist appointment"]

    forgotten = data(call(mcp_url, raw, "forget_memory", memory_id=added["id"]))
    assert forgotten["forgotten"] == f"m:{added['id']}"
    assert MemoryItem.objects.get(pk=added["id"]).is_forgotten


def test_a_write_token_proposes_and_a_direct_token_adds(mcp_url):
    olivia = user_create("olivia", password=None)
    proposing = token_for(olivia, "memory:write")
    direct = token_for(olivia, "memory:write:direct")

    proposed = data(call(mcp_url, proposing, "add_memory", text="Prefers aisle seats"))
    added = data(call(mcp_url, direct, "add_memory", text="Allergic to cats", kind="profile"))

    item = MemoryItem.objects.get(pk=proposed["memory"]["id"])
    assert (item.owner, item.status, item.text) == (olivia, Status.PROPOSED, "Prefers aisle seats")
    assert list(memory_proposed(owner=olivia)) == [item]  # in the review inbox
    live = MemoryItem.objects.get(pk=added["memory"]["id"])
    assert (live.status, live.kind) == (Status.ACTIVE, "profile")
    assert "over MCP" in live.revisions.get().reason


def test_a_plain_write_token_does_not_forget(mcp_url):
    olivia = user_create("olivia", password=None)
    item = remember(olivia, "Works at the harbour office")
    raw = token_for(olivia, "memory:write")
    message = error(call(mcp_url, raw, "forget_memory", memory_id=item.pk))
    assert "memory:write:direct" in message
    item.refresh_from_db()
    assert not item.is_forgotten


def test_a_read_token_cannot_write(mcp_url):
    olivia = user_create("olivia", password=None)
    message = error(call(mcp_url, token_for(olivia, "memory:read"), "add_memory", text="Hi"))
    assert "memory:write" in message
    assert not MemoryItem.objects.exists()


def test_a_chat_token_cannot_read_memory(mcp_url):
    olivia = user_create("olivia", password=None)
    remember(olivia, "Olivia's sister Ana lives in Porto")
    message = error(call(mcp_url, token_for(olivia, "chat"), "search_memories", query="Ana"))
    assert "memory:read" in message


def test_another_users_memory_is_not_found(mcp_url):
    olivia, otto = user_create("olivia", password=None), user_create("otto", password=None)
    theirs = remember(otto, "Otto's bank PIN hint is his cat's name")
    raw = token_for(olivia, "memory:read", "memory:write:direct")

    message = error(call(mcp_url, raw, "forget_memory", memory_id=theirs.pk))
    assert message.endswith(f"No memory m:{theirs.pk} was found in your memory.")
    theirs.refresh_from_db()
    assert not theirs.is_forgotten
    assert data(call(mcp_url, raw, "search_memories", query="bank PIN cat"))["memories"] == []
    assert data(call(mcp_url, raw, "list_memories"))["memories"] == []


def post_raw(url: str, headers: dict[str, str]) -> httpx.Response:
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    accept = {"Accept": "application/json, text/event-stream"}
    return httpx.post(url, json=body, headers={**accept, **headers}, timeout=30)


def test_no_token_or_a_revoked_one_is_a_401_with_the_api_error_shape(mcp_url):
    olivia = user_create("olivia", password=None)
    token, raw = token_create(user=olivia, name="editor", scopes=["memory:read"])
    assert post_raw(mcp_url, {"Authorization": f"Bearer {raw}"}).status_code == 200

    missing = post_raw(mcp_url, {})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "missing_token"
    assert missing.json()["error"]["type"] == "authentication_error"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = post_raw(mcp_url, {"Authorization": "Bearer rk_nothere_secret"})
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (401, "invalid_token")

    token_revoke(token=token, by=olivia)
    revoked = post_raw(mcp_url, {"Authorization": f"Bearer {raw}"})
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (401, "revoked_token")
    with pytest.raises(ExceptionGroup) as refused:  # the SDK's client, refused
        session_run(mcp_url, raw, lambda session: session.list_tools())
    assert refused.group_contains(MCPError)


def test_the_path_with_a_slash_and_other_paths(mcp_url):
    olivia = user_create("olivia", password=None)
    raw = token_for(olivia, "memory:read")
    assert post_raw(f"{mcp_url}/", {"Authorization": f"Bearer {raw}"}).status_code == 200
    body = post_raw(mcp_url, {"Authorization": f"Bearer {raw}"}).json()
    assert {tool["name"] for tool in body["result"]["tools"]} == TOOLS


def test_a_team_token_reaches_team_memory_while_a_member(mcp_url):
    owner = user_create("tess", password=None)
    team = team_create(actor=owner, name="Lighthouse")
    max_ = user_create("max", password=None)
    join(team, owner, max_, Role.MEMBER)
    shared = remember(team.account, "The lighthouse lamp is serviced on Fridays")
    remember(max_, "Max keeps his keys in the blue bowl")
    raw = token_for(max_, "memory:read", "memory:write", team=team)

    found = data(call(mcp_url, raw, "search_memories", query="lighthouse lamp service"))
    assert shared.pk in [m["id"] for m in found["memories"]]
    assert next(m for m in found["memories"] if m["id"] == shared.pk)["space"] == "team"
    listed = data(call(mcp_url, raw, "list_memories", space="team"))["memories"]
    assert [m["id"] for m in listed] == [shared.pk]

    text = "Spare bulbs are in the shed"
    proposed = data(call(mcp_url, raw, "add_memory", text=text, space="team"))
    item = MemoryItem.objects.get(pk=proposed["memory"]["id"])
    assert (item.owner, item.status, item.proposed_by) == (team.account, Status.PROPOSED, max_)

    team_leave(actor=max_, team=team)
    found = data(call(mcp_url, raw, "search_memories", query="lighthouse lamp service"))
    assert shared.pk not in [m["id"] for m in found["memories"]]
    assert [m["text"] for m in found["memories"]] == ["Max keeps his keys in the blue bowl"]
    assert "no longer a member" in error(call(mcp_url, raw, "list_memories", space="team"))
    assert "No memory" in error(
        call(mcp_url, token_for(max_, "memory:write:direct"), "forget_memory", memory_id=shared.pk)
    )


def test_team_memory_is_written_directly_only_by_an_admin_with_a_direct_token(mcp_url):
    owner = user_create("tess", password=None)
    team = team_create(actor=owner, name="Lighthouse")
    ada, max_ = user_create("ada", password=None), user_create("max", password=None)
    join(team, owner, ada, Role.ADMIN)
    join(team, owner, max_, Role.MEMBER)
    shared = remember(team.account, "The lighthouse lamp is serviced on Fridays")
    admin = token_for(ada, "memory:write:direct", team=team)
    member = token_for(max_, "memory:write:direct", team=team)

    by_admin = data(call(mcp_url, admin, "add_memory", text="Fog horn test at noon", space="team"))
    assert by_admin["memory"]["status"] == "active"
    by_member = data(call(mcp_url, member, "add_memory", text="Fog horn is loud", space="team"))
    assert by_member["memory"]["status"] == "proposed"

    assert "admins" in error(call(mcp_url, member, "forget_memory", memory_id=shared.pk))
    assert not MemoryItem.objects.get(pk=shared.pk).is_forgotten
    data(call(mcp_url, admin, "forget_memory", memory_id=shared.pk))
    assert MemoryItem.objects.get(pk=shared.pk).is_forgotten


def test_paused_memory_is_neither_read_nor_written_but_can_be_forgotten(mcp_url):
    olivia = user_create("olivia", password=None)
    item = remember(olivia, "Olivia's sister Ana lives in Porto")
    memory_settings_update(owner=olivia, paused=True)
    raw = token_for(olivia, "memory:read", "memory:write:direct")
    assert "paused" in error(call(mcp_url, raw, "search_memories", query="Ana"))
    assert "paused" in error(call(mcp_url, raw, "add_memory", text="Likes green tea"))
    data(call(mcp_url, raw, "forget_memory", memory_id=item.pk))
    assert MemoryItem.objects.get().is_forgotten


def test_bad_arguments_are_tool_errors(mcp_url):
    olivia = user_create("olivia", password=None)
    raw = token_for(olivia, "memory:read", "memory:write")
    assert error(call(mcp_url, raw, "add_memory", text="x", kind="gossip"))
    assert error(call(mcp_url, raw, "search_calendar", start="next Tuesday"))
    assert "team" in error(call(mcp_url, raw, "add_memory", text="Team fact", space="team"))
    assert not MemoryItem.objects.exists()


def test_the_calendar_window_from_dates(mcp_url):
    olivia = user_create("olivia", password=None)
    calendar = calendar_create(olivia)
    event_add(calendar, "Boat trip", datetime(2030, 5, 3, 9, tzinfo=UTC))
    event_add(calendar, "Later thing", datetime(2030, 6, 3, 9, tzinfo=UTC))
    raw = token_for(olivia, "memory:read")
    found = data(call(mcp_url, raw, "search_calendar", start="2030-05-01", end="2030-05-31"))
    assert [event["title"] for event in found["events"]] == ["Boat trip"]
    assert json.dumps(found)  # plain data


def test_the_calendar_window_from_the_chats_time_words(mcp_url):
    olivia = user_create("olivia", password=None)
    calendar = calendar_create(olivia)
    now = datetime.now(UTC).replace(microsecond=0)
    event_add(calendar, "Sailing lesson", now + timedelta(days=7))  # next week, same weekday
    event_add(calendar, "Sailing exam", now + timedelta(days=30))
    raw = token_for(olivia, "memory:read")
    found = data(call(mcp_url, raw, "search_calendar", query="what's on next week?"))
    assert found["window"]["label"] == "next week"
    assert [event["title"] for event in found["events"]] == ["Sailing lesson"]


@pytest.fixture
def redis_limits(settings):
    """A Redis of its own for the limits (the test run starts none)."""
    folder = tempfile.mkdtemp(prefix="mcp-redis-", dir="/tmp")
    sock = f"{folder}/redis.sock"
    command = [redis_server_binary(), "--port", "0", "--unixsocket", sock, "--save", ""]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(sock).exists():
        assert time.monotonic() < deadline, "redis-server did not start"
        time.sleep(0.05)
    settings.REDIS_URL = f"unix://{sock}"
    yield settings
    process.terminate()
    process.wait(10)


def test_a_tool_call_over_the_limit_says_when_it_resets(mcp_url, redis_limits):
    redis_limits.LIMIT_USER_REQUESTS_PER_MINUTE = 2
    olivia = user_create("olivia", password=None)
    raw = token_for(olivia, "memory:read")
    if datetime.now(UTC).second >= 50:  # the three calls fall in one minute's window
        time.sleep(61 - datetime.now(UTC).second)

    async def three_calls(session: ClientSession) -> list:
        return [await session.call_tool("list_memories", {}) for _ in range(3)]

    first, second, third = session_run(mcp_url, raw, three_calls)
    assert not first.is_error and not second.is_error
    message = error(third)
    assert "limit of 2 requests a minute" in message
    assert "It resets at" in message


def test_without_a_lifespan_each_request_runs_its_own_session_manager(transactional_db):
    from assistant.asgi import application

    olivia = user_create("olivia", password=None)
    remember(olivia, "Olivia's sister Ana lives in Porto")
    raw = token_for(olivia, "memory:read")
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "list_memories", "arguments": {}}}  # fmt: skip
    headers = {"Authorization": f"Bearer {raw}", "Accept": "application/json, text/event-stream"}

    async def post() -> httpx.Response:
        transport = httpx.ASGITransport(app=application)  # sends no lifespan
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post("/mcp", json=body, headers=headers)

    response = asyncio.run(post())
    assert response.status_code == 200
    listed = response.json()["result"]["structuredContent"]["memories"]
    assert [m["text"] for m in listed] == ["Olivia's sister Ana lives in Porto"]
