"""/v1/chat/completions and /v1/models in-process: tokens and scopes, bad input (a clear
4xx in the API's one error shape, nothing saved), models per team, limits, busy
conversations, thread matching and the memory switch."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assistant.api.models import ApiToken
from assistant.api.tokens import token_revoke
from assistant.models import ContextItem, Conversation, Message
from assistant.teams.models import Role
from assistant.teams.services import team_leave
from assistant.usage.limits import LimitExceeded
from tests.assistant.api.openai_client import URL, api_token, assistant, call, chat, user
from tests.assistant.teams import conftest as teams_conftest
from tests.assistant.teams.personas import join, url_names
from tests.factories import remember

pytestmark = pytest.mark.django_db

MODELS = "/v1/models"
people = teams_conftest.people  # the team personas (owner, admin, member, former, outsider)


def nothing_saved(owner) -> bool:
    return not Conversation.objects.filter(owner=owner).exists()


# -- every /v1/ URL: who gets what (a new URL without a row fails) -----------------------

# name -> (method, path, body): the body is invalid JSON, so an accepted token gets a 400
# and nothing reaches a model.
ROWS = {
    "openai:chat-completions": ("post", URL, b"{"),
    "openai:models": ("get", MODELS, None),
}
# token kind -> expected status per URL name
EXPECTED = {
    "none": {"openai:chat-completions": 401, "openai:models": 401},
    "malformed": {"openai:chat-completions": 401, "openai:models": 401},
    "revoked": {"openai:chat-completions": 401, "openai:models": 401},
    "no_chat_scope": {"openai:chat-completions": 403, "openai:models": 403},
    "chat": {"openai:chat-completions": 400, "openai:models": 200},
}


def test_every_openai_url_has_a_row():
    assert url_names("openai") == set(ROWS)


@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("name", sorted(ROWS))
def test_token_matrix(owner, name, kind):
    raw = {"none": None, "malformed": "not-a-token"}.get(kind)
    if kind in ("revoked", "chat"):
        raw = api_token(owner)
    elif kind == "no_chat_scope":
        raw = api_token(owner, scopes=("memory:read",))
    if kind == "revoked":
        token_revoke(token=ApiToken.objects.get(user=owner), by=owner)
    method, path, data = ROWS[name]
    reply = call(raw, method=method, path=path, data=data)
    assert reply.status == EXPECTED[kind][name], reply.body
    if reply.status != 200:
        error = reply.error
        assert set(error) >= {"type", "code", "message"}
    if reply.status == 401:
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    assert nothing_saved(owner)


def test_wrong_methods_are_405_in_the_error_shape(owner):
    raw = api_token(owner)
    assert call(raw, method="get", path=URL).error["code"] == "method_not_allowed"
    assert call(raw, {}, path=MODELS).status == 405


# -- models ----------------------------------------------------------------------------


def test_models_lists_the_profiles(owner, settings):
    listed = call(api_token(owner), method="get", path=MODELS).json()
    assert listed["object"] == "list"
    assert [m["id"] for m in listed["data"]] == list(settings.MODEL_PROFILES)
    assert all(m["object"] == "model" and m["owned_by"] == "recall" for m in listed["data"])


@pytest.fixture
def narrow_team(people):
    """The team allows the fast profile only; a former member kept their team token."""
    people.team.allowed_profiles = ["fast"]
    people.team.save()
    return people


@pytest.mark.parametrize(
    ("persona", "models"),
    [
        ("owner", ["fast"]),
        ("admin", ["fast"]),
        ("member", ["fast"]),
        ("former", None),  # no longer a member: the token's personal reach (all profiles)
    ],
)
def test_a_team_token_sees_the_teams_models(narrow_team, backend, settings, persona, models):
    person = narrow_team.get(persona)
    if persona == "former":
        join(narrow_team.team, narrow_team.owner, person, Role.MEMBER)
    raw = api_token(person, team=narrow_team.team)
    if persona == "former":
        team_leave(actor=person, team=narrow_team.team)
    listed = [m["id"] for m in call(raw, method="get", path=MODELS).json()["data"]]
    assert listed == (models or list(settings.MODEL_PROFILES))
    reply = chat(raw, [user("hi")], model="thinking")
    if models is None:
        assert reply.status == 200
        conversation = Conversation.objects.get(owner=person)
        assert conversation.team is None  # a former member's turns never read the team
    else:
        assert reply.status == 400 and reply.error["code"] == "model_not_found"
        assert reply.error["valid_models"] == ["fast"]


def test_an_outsider_cannot_make_a_team_token(people):
    with pytest.raises(ValueError):
        api_token(people.outsider, team=people.team)


def test_a_model_is_a_profile_or_its_backend_model(owner, backend):
    reply = chat(api_token(owner), [user("hi")], model="scripted-thinking")
    assert reply.status == 200
    assert reply.json()["model"] == "thinking"
    assert Conversation.objects.get(owner=owner).profile == "thinking"


# -- bad input: a clear 4xx, nothing saved ------------------------------------------------

BAD = [
    ({"model": "fast"}, 400, "invalid_messages"),
    ({"model": "fast", "messages": []}, 400, "invalid_messages"),
    ({"model": "fast", "messages": "hi"}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [assistant("hi")]}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [user("hi"), assistant("yo")]}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [{"role": "system", "content": "x"}]}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [user("   ")]}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [{"role": "wizard", "content": "x"}]}, 400, "invalid_messages"),
    ({"model": "fast", "messages": [user("hi")], "n": 2}, 400, "n_not_supported"),
    ({"model": "fast", "messages": [user("hi")], "n": True}, 400, "n_not_supported"),
    (
        {"model": "fast", "messages": [user("hi")], "tools": [{"type": "function"}]},
        400,
        "tools_not_supported",
    ),
    (
        {"model": "fast", "messages": [user("hi")], "tool_choice": "auto"},
        400,
        "tools_not_supported",
    ),
    (
        {"model": "fast", "messages": [user("hi")], "functions": [{"name": "f"}]},
        400,
        "tools_not_supported",
    ),
    (
        {"model": "fast", "messages": [{"role": "tool", "content": "x", "tool_call_id": "1"}]},
        400,
        "tools_not_supported",
    ),
    (
        {
            "model": "fast",
            "messages": [
                {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}
            ],
        },
        400,
        "unsupported_content",
    ),
    (
        {
            "model": "fast",
            "messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}],
        },
        400,
        "unsupported_content",
    ),
    ({"model": "gpt-7", "messages": [user("hi")]}, 400, "model_not_found"),
    ({"messages": [user("hi")]}, 400, "model_not_found"),
    ({"model": "fast", "messages": [user("hi")], "max_tokens": 0}, 400, "invalid_value"),
    ({"model": "fast", "messages": [user("hi")], "max_tokens": "9"}, 400, "invalid_value"),
    ({"model": "fast", "messages": [user("hi")], "temperature": 3}, 400, "invalid_value"),
    ({"model": "fast", "messages": [user("hi")], "stream": "yes"}, 400, "invalid_value"),
    ({"model": "fast", "messages": [user("hi")], "stream_options": 1}, 400, "invalid_value"),
    ([1, 2], 400, "invalid_json"),
]


@pytest.mark.parametrize(("body", "status", "code"), BAD)
def test_bad_input_is_a_clear_4xx_and_saves_nothing(owner, body, status, code):
    reply = call(api_token(owner), body)
    assert reply.status == status, reply.body
    error = reply.error
    assert error["code"] == code and error["type"] == "invalid_request_error"
    assert error["message"]
    assert nothing_saved(owner)


def test_unknown_model_lists_the_valid_ones(owner, settings):
    error = chat(api_token(owner), [user("hi")], model="gpt-7").error
    assert error["valid_models"] == list(settings.MODEL_PROFILES)
    assert "gpt-7" in error["message"] and "fast" in error["message"]
    assert error["param"] == "model"


def test_invalid_json_is_400(owner):
    reply = call(api_token(owner), data=b'{"model": "fast", "messages": [')
    assert reply.status == 400 and reply.error["code"] == "invalid_json"
    reply = call(api_token(owner), data=b"\xff\xfe")
    assert reply.status == 400 and reply.error["code"] == "invalid_json"


def test_an_oversized_body_is_413(owner, settings):
    settings.API_MAX_BODY_BYTES = 2048
    body = {"model": "fast", "messages": [user("x" * 4000)]}
    reply = call(api_token(owner), body)
    assert reply.status == 413 and reply.error["code"] == "request_too_large"
    assert nothing_saved(owner)


def test_a_message_over_the_length_limit_is_400(owner, settings):
    settings.MAX_MESSAGE_CHARS = 10
    reply = chat(api_token(owner), [user("x" * 50)])
    assert reply.status == 400 and reply.error["code"] == "too_long"
    assert nothing_saved(owner)


def test_a_limit_is_429_with_when_it_resets(owner, monkeypatch):
    from datetime import UTC, datetime, timedelta

    def refuse(*, user, team=None):
        reset = datetime.now(UTC) + timedelta(seconds=30)
        raise LimitExceeded(who="user", kind="requests_per_minute", limit=5, reset_at=reset)

    monkeypatch.setattr("assistant.api.openai_views.request_admit", refuse)
    reply = chat(api_token(owner), [user("hi")])
    assert reply.status == 429
    assert reply.error["code"] == "user_requests_per_minute_exceeded"
    assert reply.error["reset_at"] and 0 < int(reply.headers["Retry-After"]) <= 30
    assert nothing_saved(owner)


def test_a_busy_conversation_is_409(owner, backend):
    raw = api_token(owner)
    first = chat(raw, [user("one")]).json()["choices"][0]["message"]["content"]
    conversation = Conversation.objects.get(owner=owner)
    Message.objects.create(conversation=conversation, role="user", content="two", status="complete")
    Message.objects.create(conversation=conversation, role="assistant", status="pending")
    reply = chat(raw, [user("one"), assistant(first), user("two"), user("three")])
    # The earlier messages match the stored history [one, answer, two]; its answer is open.
    assert reply.status == 409 and reply.error["code"] == "conversation_busy"
    assert reply.error["type"] == "conflict_error"
    assert conversation.messages.count() == 4  # "three" was not saved


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
