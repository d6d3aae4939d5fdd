"""Limits in the browser, counted in a real redis-server: send, regenerate and continue
are refused with 429 and the time the limit resets, before anything is saved."""

from __future__ import annotations

import logging
import time

import pytest
from django.test import Client
from django.urls import reverse

from assistant.models import Conversation, Message
from assistant.services.conversations import message_send
from assistant.usage import limits
from assistant.usage.services import usage_record
from inference.local_server import free_port

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}
# 30 s into the current UTC minute, frozen: a test never straddles two minutes.
NOW = time.time() // 60 * 60 + 30


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch):
    class Clock:
        @staticmethod
        def time() -> float:
            return NOW

    monkeypatch.setattr(limits, "time", Clock)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def send(client, conversation, text="Hello", **extra):
    return client.post(reverse("chat:send", args=[conversation.pk]), {"text": text}, **extra)


def finish_answers(conversation) -> None:
    """Close the open answers (as a finished stream would), so the next send may start."""
    conversation.messages.filter(role="assistant").update(status="complete", content="Done.")


def test_requests_per_minute_exceeded_is_429_with_the_reset_time_and_nothing_saved(
    owner, redis_limits, settings
):
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 2
    conversation = Conversation.objects.create(owner=owner)
    client = signed_in(owner)
    for _ in range(2):
        assert send(client, conversation, **HTMX).status_code == 200
        finish_answers(conversation)
    saved = Message.objects.count()

    refused = send(client, conversation, "Third message, not lost", **HTMX)

    assert refused.status_code == 429
    assert 1 <= int(refused["Retry-After"]) <= 60  # when the minute ends
    text = refused.content.decode()
    assert "limit of 2 requests a minute" in text and "resets at" in text and "UTC" in text
    assert Message.objects.count() == saved
    # Without htmx: the composer's error list, still 429.
    plain = send(client, conversation)
    assert plain.status_code == 429 and "requests a minute" in plain.content.decode()


def test_regenerate_and_continue_are_limited_too(owner, redis_limits, settings):
    conversation = Conversation.objects.create(owner=owner)
    _, answer = message_send(conversation=conversation, text="Tell me a long story")
    Message.objects.filter(pk=answer.pk).update(status="complete", finish_reason="length")
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 1
    client = signed_in(owner)
    redis_limits.flush()
    limits.request_admit(user=owner)  # the one request of this minute is used

    for name in ("chat:regenerate", "chat:continue"):
        response = client.post(reverse(name, args=[conversation.pk, answer.pk]), **HTMX)
        assert response.status_code == 429, name
        assert "resets at" in response.content.decode()
    assert list(conversation.messages.values_list("pk", flat=True)) == [
        answer.pk - 1,
        answer.pk,
    ]


def test_tokens_per_day_exceeded(owner, redis_limits, settings):
    settings.LIMIT_USER_TOKENS_PER_DAY = 1_000
    conversation = Conversation.objects.create(owner=owner)
    client = signed_in(owner)
    usage_record(user=owner, kind="chat", model="m", prompt_tokens=900, completion_tokens=50)
    assert send(client, conversation, **HTMX).status_code == 200  # 950 of 1,000 used
    finish_answers(conversation)
    usage_record(user=owner, kind="chat", model="m", prompt_tokens=40, completion_tokens=10)

    refused = send(client, conversation, **HTMX)

    assert refused.status_code == 429
    assert "limit of 1,000 tokens a day" in refused.content.decode()
    assert "00:00:00 UTC" in refused.content.decode()
    assert int(refused["Retry-After"]) >= 1


def test_the_team_limit_counts_team_chats_only_and_the_user_limit_everything(
    people, redis_limits, settings
):
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 3
    people.team.limit_requests_per_minute = 1
    people.team.save(update_fields=["limit_requests_per_minute"])
    member, admin = people.member, people.admin
    team_chat = Conversation.objects.create(owner=member, team=people.team)
    admins_team_chat = Conversation.objects.create(owner=admin, team=people.team)
    personal = Conversation.objects.create(owner=member)
    client = signed_in(member)

    assert send(client, team_chat, **HTMX).status_code == 200
    finish_answers(team_chat)
    refused = send(client, team_chat, **HTMX)  # the team's one request is used
    assert refused.status_code == 429
    assert "your team's limit of 1 request a minute" in refused.content.decode()
    # The whole team shares it ...
    assert send(signed_in(admin), admins_team_chat, **HTMX).status_code == 429
    # ... while personal chats count against the member's own limit only, and the refused
    # team request was not counted there: 2 more are allowed, then the user's limit.
    for _ in range(2):
        assert send(client, personal, **HTMX).status_code == 200
        finish_answers(personal)
    refused = send(client, personal, **HTMX)
    assert refused.status_code == 429 and "your limit of 3 requests" in refused.content.decode()


def test_a_former_members_team_chat_no_longer_counts_for_the_team(people, redis_limits, settings):
    people.team.limit_tokens_per_day = 10
    people.team.save(update_fields=["limit_tokens_per_day"])
    usage_record(user=people.owner, team=people.team, kind="chat", prompt_tokens=50)
    old_chat = Conversation.objects.create(owner=people.former, team=people.team)
    assert send(signed_in(people.former), old_chat, **HTMX).status_code == 200
    member_chat = Conversation.objects.create(owner=people.member, team=people.team)
    assert send(signed_in(people.member), member_chat, **HTMX).status_code == 429


def test_redis_down_lets_the_request_through_and_logs_it(owner, settings, caplog):
    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 1
    conversation = Conversation.objects.create(owner=owner)
    with caplog.at_level(logging.WARNING, logger="assistant.usage.limits"):
        assert send(signed_in(owner), conversation, **HTMX).status_code == 200
    assert conversation.messages.count() == 2
    assert "Redis is unreachable" in caplog.text


def test_no_limits_set_never_asks_redis(owner, settings, monkeypatch):
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = settings.LIMIT_USER_TOKENS_PER_DAY = 0

    def unreachable():
        raise AssertionError("Redis was asked")

    monkeypatch.setattr(limits, "_client", unreachable)
    conversation = Conversation.objects.create(owner=owner)
    assert send(signed_in(owner), conversation, **HTMX).status_code == 200


def test_a_send_refused_because_an_answer_is_open_is_not_counted(owner, redis_limits, settings):
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 2
    conversation = Conversation.objects.create(owner=owner)
    client = signed_in(owner)
    assert send(client, conversation, **HTMX).status_code == 200
    busy = send(client, conversation, "Too soon", **HTMX)  # the first answer is still open
    assert "still being written" in busy.content.decode()
    finish_answers(conversation)
    assert send(client, conversation, **HTMX).status_code == 200  # the second of two
    finish_answers(conversation)
    assert send(client, conversation, **HTMX).status_code == 429
