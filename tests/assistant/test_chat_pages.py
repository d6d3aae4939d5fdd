"""Chat pages: conversations, sending, validation and ownership."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assistant.models import ContextItem, Conversation, Message

pytestmark = pytest.mark.django_db


def test_pages_require_login(client):
    response = client.get(reverse("chat:home"))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_login_page_and_sign_in(client, owner):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b"Sign in" in page.content
    response = client.post(
        reverse("login"), {"username": "olivia", "password": "correct-horse-1"}, follow=True
    )
    assert response.status_code == 200
    assert b"Start a conversation" in response.content


def test_new_conversation_uses_chosen_profile(owner_client, owner):
    response = owner_client.post(reverse("chat:conversation-new"), {"profile": "thinking"})
    conversation = Conversation.objects.get(owner=owner)
    assert response["Location"] == reverse("chat:conversation", args=[conversation.pk])
    assert conversation.profile == "thinking"
    page = owner_client.get(response["Location"])
    assert b"on your mind?" in page.content


def test_unknown_profile_falls_back_to_default(owner_client, owner, settings):
    owner_client.post(reverse("chat:conversation-new"), {"profile": "turbo"})
    assert Conversation.objects.get(owner=owner).profile == settings.DEFAULT_MODEL_PROFILE


def test_send_saves_message_and_pending_answer(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner)
    response = owner_client.post(
        reverse("chat:send", args=[conversation.pk]),
        {"text": "  What is pgvector?  "},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "message-sent"
    user_msg, answer = conversation.messages.all()
    assert (user_msg.role, user_msg.content) == ("user", "What is pgvector?")
    assert (answer.role, answer.status) == ("assistant", "pending")
    stream_url = reverse("chat:stream", args=[conversation.pk, answer.pk])
    assert stream_url.encode() in response.content
    conversation.refresh_from_db()
    assert conversation.title == "What is pgvector?"


def test_empty_message_is_a_form_error(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner)
    response = owner_client.post(
        reverse("chat:send", args=[conversation.pk]), {"text": "   "}, HTTP_HX_REQUEST="true"
    )
    assert b"Type a message first." in response.content
    assert response["HX-Retarget"] == "#composer-errors"
    assert not Message.objects.exists()


def test_over_long_message_is_refused_whole(owner_client, owner, settings):
    settings.MAX_MESSAGE_CHARS = 100
    conversation = Conversation.objects.create(owner=owner)
    response = owner_client.post(
        reverse("chat:send", args=[conversation.pk]), {"text": "x" * 101}, HTTP_HX_REQUEST="true"
    )
    assert b"the limit is 100" in response.content
    assert not Message.objects.exists()
    conversation.refresh_from_db()
    assert conversation.title == ""


def test_markdown_is_rendered_and_sanitised(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner)
    Message.objects.create(
        conversation=conversation,
        role="assistant",
        content="**bold** <script>alert(1)</script> [x](javascript:alert(1))",
    )
    page = owner_client.get(reverse("chat:conversation", args=[conversation.pk]))
    assert b"<strong>bold</strong>" in page.content
    assert b"<script>alert(1)" not in page.content
    assert b'href="javascript:' not in page.content


def test_user_text_is_escaped(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner)
    Message.objects.create(conversation=conversation, role="user", content="<img src=x onerror=1>")
    page = owner_client.get(reverse("chat:conversation", args=[conversation.pk]))
    assert b"<img src=x" not in page.content
    assert b"&lt;img src=x onerror=1&gt;" in page.content


def test_switching_profile(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner, profile="fast")
    owner_client.post(reverse("chat:profile", args=[conversation.pk]), {"profile": "thinking"})
    conversation.refresh_from_db()
    assert conversation.profile == "thinking"


def test_delete_conversation(owner_client, owner):
    conversation = Conversation.objects.create(owner=owner)
    Message.objects.create(conversation=conversation, role="user", content="hi")
    owner_client.post(reverse("chat:delete", args=[conversation.pk]))
    assert not Conversation.objects.exists()
    assert not Message.objects.exists()


def test_conversation_list_shows_only_own(owner_client, owner, outsider):
    Conversation.objects.create(owner=owner, title="Mine")
    Conversation.objects.create(owner=outsider, title="Secret plans")
    page = owner_client.get(reverse("chat:home"))
    assert b"Mine" in page.content
    assert b"Secret plans" not in page.content


@pytest.mark.parametrize(
    ("name", "method", "needs_message"),
    [
        ("chat:conversation", "get", False),
        ("chat:profile", "post", False),
        ("chat:delete", "post", False),
        ("chat:send", "post", False),
        ("chat:stream", "get", True),
        ("chat:stop", "post", True),
        ("chat:regenerate", "post", True),
        ("chat:continue", "post", True),
        ("chat:remember", "post", True),
        ("chat:context", "get", True),
    ],
)
def test_outsider_gets_404_everywhere(outsider_client, owner, name, method, needs_message):
    conversation = Conversation.objects.create(owner=owner, title="Private")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="x")
    args = [conversation.pk, answer.pk] if needs_message else [conversation.pk]
    response = getattr(outsider_client, method)(reverse(name, args=args), {"text": "hi"})
    assert response.status_code == 404
    assert Conversation.objects.filter(pk=conversation.pk).exists()
    assert conversation.messages.count() == 1


def test_unknown_conversation_is_404(owner_client):
    assert owner_client.get(reverse("chat:conversation", args=[999999])).status_code == 404


def test_healthz(client):
    # The liveness answer; readiness (database and Redis) is in tests/deploy_k8s/test_healthz.py.
    assert client.get("/healthz?live=1").json() == {"status": "ok"}


def test_sidebar_says_when_memory_is_paused(owner_client, owner):
    from memory.services.preferences import memory_settings_update

    assert b">paused</span>" not in owner_client.get(reverse("chat:home")).content
    memory_settings_update(owner=owner, paused=True)
    assert b">paused</span>" in owner_client.get(reverse("chat:home")).content


def test_a_cited_passage_is_its_owners_only(owner, outsider):
    """chat:passage (a passage an answer cited, kept after its file is gone): the owner
    reads it, another user gets 404, an anonymous visitor is sent to sign in."""
    conversation = Conversation.objects.create(owner=owner, title="Private")
    answer = Message.objects.create(conversation=conversation, role="assistant", content="x")
    row = ContextItem.objects.create(
        answer=answer, source=ContextItem.Source.DOCUMENT, tag="d:1", text="Secret plans"
    )
    url = reverse("chat:passage", args=[conversation.pk, answer.pk, row.pk])
    mine, theirs = Client(), Client()  # three visitors, three sessions
    mine.force_login(owner)
    theirs.force_login(outsider)
    assert b"Secret plans" in mine.get(url).content
    refused = theirs.get(url)
    assert refused.status_code == 404 and b"Secret plans" not in refused.content
    anonymous = Client().get(url)
    assert anonymous.status_code == 302 and reverse("login") in anonymous["Location"]
