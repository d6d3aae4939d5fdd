"""/v1/chat/completions in-process: the turn behind a request (the chat's prompt, memory
and context records, API conversations, their continuation and retries, the memory
switch, team memory, backend failures, usage)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.models import ContextItem, Conversation, Message
from tests.assistant.api.openai_client import api_token, assistant, call, chat, user
from tests.assistant.teams import conftest as teams_conftest
from tests.factories import remember

pytestmark = pytest.mark.django_db

people = teams_conftest.people  # the team personas (owner, admin, member, former, outsider)


# -- the turn -----------------------------------------------------------------------------


def test_non_streaming_answer_and_its_conversation(owner, backend):
    backend.script([[{"reasoning_content": "Pondering."}, {"content": "Hello there."}]])
    reply = chat(api_token(owner), [user("Say hello")], model="thinking", max_tokens=50)
    assert reply.status == 200
    body = reply.json()
    message = body["choices"][0]["message"]
    assert message["content"] == "Hello there."
    assert message["reasoning_content"] == message["reasoning"] == "Pondering."
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == (
        body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]
    )
    conversation = Conversation.objects.get(pk=reply.headers["X-Conversation-Id"])
    assert conversation.channel == "api" and conversation.api_token.user == owner
    answer = conversation.messages.get(role="assistant")
    assert answer.request_options == {"max_tokens": 50}
    assert backend.requests[-1]["max_tokens"] == 50


def test_system_message_follows_our_instructions_before_memory(owner, backend):
    remember(owner, "Olivia keeps bees.")
    reply = chat(
        api_token(owner),
        [{"role": "system", "content": "Talk like a pirate."}, user("What do I keep?")],
    )
    assert reply.status == 200
    system = backend.requests[-1]["messages"][0]["content"]
    assert system.startswith("You are a helpful")
    assert system.index("Talk like a pirate.") < system.index("<memory>")
    assert "Olivia keeps bees." in system
    conversation = Conversation.objects.get(owner=owner)
    assert conversation.instructions == "Talk like a pirate."
    answer = conversation.messages.get(role="assistant")
    parts = [p["part"] for p in answer.prompt_parts]
    assert parts[:3] == ["Instructions", "Client instructions", "Memory"]
    assert ContextItem.objects.filter(answer=answer, injected=True).exists()


def test_the_inspector_shows_an_api_turn(owner, owner_client, backend):
    item = remember(owner, "Olivia's cat is called Miso.")
    reply = chat(api_token(owner), [user("What is my cat called?")])
    conversation = Conversation.objects.get(pk=reply.headers["X-Conversation-Id"])
    answer = conversation.messages.get(role="assistant")
    page = owner_client.get(reverse("chat:context", args=[conversation.pk, answer.pk]))
    assert page.status_code == 200
    assert "Miso" in page.content.decode()
    assert ContextItem.objects.get(answer=answer, memory=item).injected
    # In the browser the conversation is marked as the API's.
    page = owner_client.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    assert 'class="badge">API</span>' in page


def test_thread_matching_continues_a_conversation(owner, backend):
    raw = api_token(owner)
    first = chat(raw, [user("One")])
    said = first.json()["choices"][0]["message"]["content"]
    second = chat(raw, [user("One"), assistant(said), user("Two")])
    assert second.headers["X-Conversation-Id"] == first.headers["X-Conversation-Id"]
    conversation = Conversation.objects.get(pk=first.headers["X-Conversation-Id"])
    assert [m.content for m in conversation.messages.filter(role="user")] == ["One", "Two"]
    # The prompt carried the stored history once.
    sent = backend.requests[-1]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]

    # A history that differs (an edited answer), another token, or a first message of
    # the same words: new conversations.
    edited = chat(raw, [user("One"), assistant("Something else"), user("Two")])
    again = chat(raw, [user("One")])
    other = chat(api_token(owner), [user("One"), assistant(said), user("Two")])
    ids = {r.headers["X-Conversation-Id"] for r in (first, edited, again, other)}
    assert len(ids) == 4
    stored = Conversation.objects.get(pk=edited.headers["X-Conversation-Id"])
    assert [(m.role, m.content) for m in stored.messages.order_by("created_at", "id")][:3] == [
        ("user", "One"),
        ("assistant", "Something else"),
        ("user", "Two"),
    ]


def test_another_users_history_is_never_continued(owner, outsider, backend):
    first = chat(api_token(owner), [user("One")])
    said = first.json()["choices"][0]["message"]["content"]
    theirs = chat(api_token(outsider), [user("One"), assistant(said), user("Two")])
    assert theirs.headers["X-Conversation-Id"] != first.headers["X-Conversation-Id"]
    assert Conversation.objects.get(pk=theirs.headers["X-Conversation-Id"]).owner == outsider


@pytest.mark.parametrize("switch", [{"headers": {"X-Memory": "off"}}, {"incognito": True}])
def test_memory_off_is_an_incognito_conversation(owner, backend, switch):
    remember(owner, "Olivia keeps bees.")
    headers = switch.get("headers")
    body = {"model": "fast", "messages": [user("What do I keep?")]}
    if "incognito" in switch:
        body["incognito"] = True
    reply = call(api_token(owner), body, headers=headers)
    assert reply.status == 200
    system = backend.requests[-1]["messages"][0]["content"]
    assert "bees" not in system and "<memory>" not in system
    conversation = Conversation.objects.get(owner=owner)
    assert conversation.incognito and conversation.channel == "api"
    answer = conversation.messages.get(role="assistant")
    assert "Incognito" in answer.memory_note
    assert not ContextItem.objects.filter(answer=answer, source="memory").exists()


def test_a_team_token_reads_team_memory(people, backend):
    remember(people.team.account, "The team's standup is at 9:30.", changed_by=people.owner)
    raw = api_token(people.member, team=people.team)
    reply = chat(raw, [user("When is the standup?")])
    assert reply.status == 200
    assert "standup is at 9:30" in backend.requests[-1]["messages"][0]["content"]
    conversation = Conversation.objects.get(owner=people.member)
    assert conversation.team == people.team
    # The same person's personal token does not.
    chat(api_token(people.member), [user("When is the standup?")])
    assert "9:30" not in backend.requests[-1]["messages"][0]["content"]


def test_a_backend_failure_is_502_and_the_turn_stays_on_record(owner, backend):
    backend.script([[{"content": "Half an ans"}, ("drop",)]])
    reply = chat(api_token(owner), [user("Tell me everything")])
    assert reply.status == 502 and reply.error["code"] == "backend_error"
    conversation = Conversation.objects.get(pk=reply.headers.get("X-Conversation-Id"))
    answer = conversation.messages.get(role="assistant")
    assert answer.status == "error" and answer.content == "Half an ans"
    assert conversation.messages.get(role="user").content == "Tell me everything"


def test_a_backend_http_error_is_502(owner, backend):
    backend.script([[("status", 500)]])
    reply = chat(api_token(owner), [user("hi")])
    assert reply.status == 502 and reply.error["type"] == "api_error"
    assert reply.error["message"]


def test_usage_is_recorded_as_api(owner, backend):
    from assistant.usage.models import UsageRecord

    chat(api_token(owner), [user("hi")])
    record = UsageRecord.objects.get(user=owner)
    assert record.kind == "api" and record.api_token is not None


def test_a_stream_pings_while_waiting_and_ends_with_done(owner, backend, settings):
    settings.CHAT_SSE_PING_S = 0.1
    backend.script([[("sleep", 0.7), {"content": "Late"}, ("finish", "length")]])
    reply = chat(api_token(owner), [user("hi")], stream=True)
    assert reply.status == 200 and reply.headers["Content-Type"] == "text/event-stream"
    assert b": ping\n\n" in reply.body
    events = reply.events()
    assert events[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(e["choices"][0]["delta"].get("content") or "" for e in events[:-1]) == "Late"
    assert events[-2]["choices"][0]["finish_reason"] == "length"  # the backend's own
    assert events[-1] == "[DONE]"
    assert reply.headers["X-Conversation-Id"]


def test_a_model_that_answered_as_reasoning_still_gives_content(owner, backend):
    """A thinking profile whose model did not think: what streamed as reasoning is the
    answer; the stream sends it as content before finishing."""
    backend.script([[{"reasoning_content": "Just the answer."}]])
    events = chat(api_token(owner), [user("hi")], model="thinking", stream=True).events()
    content = "".join(
        e["choices"][0]["delta"].get("content") or "" for e in events[:-1] if e["choices"]
    )
    answer = Message.objects.get(conversation__owner=owner, role="assistant")
    assert content == answer.content == "Just the answer."


def test_an_answer_without_text_is_left_out_of_the_match(owner, backend):
    """A failed answer that produced no text is not part of the history a client
    resends (nor of the prompt): [One, Two] continues the chat whose answer to One failed."""
    backend.script([[("status", 500)]])
    raw = api_token(owner)
    failed = chat(raw, [user("One")])
    assert failed.status == 502
    again = chat(raw, [user("One"), user("Two")])
    assert again.status == 200
    assert again.headers["X-Conversation-Id"] == failed.headers["X-Conversation-Id"]
    empty = chat(raw, [user("One"), assistant(""), user("Two"), assistant(""), user("Three")])
    assert empty.status == 200
    answers = Conversation.objects.get(pk=failed.headers["X-Conversation-Id"]).messages
    assert [m.content for m in answers.filter(role="user")] == ["One", "Two"]


def test_resending_a_failed_request_retries_its_answer(owner, backend):
    raw = api_token(owner)
    history = [user("One"), assistant("Hello from the scripted backend."), user("Two")]
    first = chat(raw, [user("One")])
    assert first.status == 200
    backend.script([[("status", 500)], [{"content": "Half"}, ("drop",)]])
    failed = chat(raw, history)
    assert failed.status == 502
    partial = chat(raw, history)  # the retry fails too, half-way
    assert partial.status == 502
    retried = chat(raw, history, model="thinking")
    assert retried.status == 200
    ids = {r.headers["X-Conversation-Id"] for r in (first, failed, partial, retried)}
    assert len(ids) == 1
    conversation = Conversation.objects.get(pk=ids.pop())
    rows = [(m.role, m.content, m.status) for m in conversation.messages.order_by("id")]
    assert rows == [
        ("user", "One", "complete"),
        ("assistant", "Hello from the scripted backend.", "complete"),
        ("user", "Two", "complete"),
        ("assistant", "Hello from the scripted backend.", "complete"),
    ]
    assert conversation.profile == "thinking"


def test_a_first_message_that_failed_is_retried_not_duplicated(owner, backend):
    backend.script([[("status", 503)]])
    raw = api_token(owner)
    assert chat(raw, [user("Hi")]).status == 502
    assert chat(raw, [user("Hi")]).status == 200
    assert Conversation.objects.filter(owner=owner).count() == 1
    # A later first message of the same words, once that one was answered: a new chat.
    assert chat(raw, [user("Hi")]).status == 200
    assert Conversation.objects.filter(owner=owner).count() == 2
