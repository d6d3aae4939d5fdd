"""/v1/chat/completions and /v1/models in-process: tokens and scopes, bad input (a clear
4xx in the API's one error shape, nothing saved), models per team, limits, busy
conversations. The turn itself: test_openai_turns.py."""

from __future__ import annotations

import pytest

from assistant.api.models import ApiToken
from assistant.api.tokens import token_revoke
from assistant.models import Conversation, Message
from assistant.teams.models import Role
from assistant.teams.services import team_leave
from assistant.usage.limits import LimitExceeded
from tests.assistant.api.openai_client import URL, api_token, assistant, call, chat, user
from tests.assistant.teams import conftest as teams_conftest
from tests.assistant.teams.personas import join, url_names

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
