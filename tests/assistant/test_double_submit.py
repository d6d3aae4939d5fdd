"""Two quick clicks make one answer; a user has at most CHAT_MAX_CONCURRENT_STREAMS open."""

from __future__ import annotations

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from assistant.models import Conversation, Message
from assistant.services.conversations import message_regenerate, message_send

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(owner):
    return Conversation.objects.create(owner=owner, profile="fast")


def open_answers(owner):
    return Message.objects.filter(
        conversation__owner=owner, role="assistant", status__in=["pending", "streaming"]
    )


def test_second_send_while_an_answer_is_open_is_refused(owner_client, owner, conversation):
    url = reverse("chat:send", args=[conversation.pk])
    first = owner_client.post(url, {"text": "Hello"}, HTTP_HX_REQUEST="true")
    second = owner_client.post(url, {"text": "Hello"}, HTTP_HX_REQUEST="true")
    assert first.status_code == second.status_code == 200
    assert first["HX-Trigger"] == "message-sent"
    assert "HX-Trigger" not in second  # the composer keeps the text
    assert second["HX-Retarget"] == "#composer-errors"
    assert b"still being written" in second.content
    assert open_answers(owner).count() == 1
    assert conversation.messages.filter(role="user").count() == 1


def test_send_after_regenerate_does_not_open_a_second_answer(owner_client, owner, conversation):
    _, answer = message_send(conversation=conversation, text="Hi")
    Message.objects.filter(pk=answer.pk).update(status="complete", content="Hello!")
    owner_client.post(reverse("chat:regenerate", args=[conversation.pk, answer.pk]))
    with pytest.raises(ValidationError, match="still being written"):
        message_send(conversation=conversation, text="Another question")
    assert open_answers(owner).count() == 1


def test_database_allows_one_open_answer_per_conversation(conversation):
    Message.objects.create(conversation=conversation, role="assistant", status="pending")
    with pytest.raises(IntegrityError), transaction.atomic():
        Message.objects.create(conversation=conversation, role="assistant", status="streaming")
    # Finished answers are not limited.
    Message.objects.create(conversation=conversation, role="assistant", status="complete")


def test_concurrent_streams_per_user_are_capped(owner_client, owner, outsider, settings):
    settings.CHAT_MAX_CONCURRENT_STREAMS = 2
    mine = [Conversation.objects.create(owner=owner) for _ in range(3)]
    for conversation in mine[:2]:
        message_send(conversation=conversation, text="Busy")
    response = owner_client.post(
        reverse("chat:send", args=[mine[2].pk]), {"text": "One more"}, HTTP_HX_REQUEST="true"
    )
    assert b"You already have 2 answers being written" in response.content
    assert open_answers(owner).count() == 2
    assert not mine[2].messages.exists()
    # Someone else's streams do not count against this user, nor the reverse.
    message_send(conversation=Conversation.objects.create(owner=outsider), text="Mine")


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_regenerates_make_one_answer(owner):
    conversation = Conversation.objects.create(owner=owner)
    _, answer = message_send(conversation=conversation, text="Hi")
    Message.objects.filter(pk=answer.pk).update(status="complete", content="Hello!")
    answer = Message.objects.select_related("conversation").get(pk=answer.pk)
    barrier, results = threading.Barrier(2), []

    def click() -> None:
        try:
            barrier.wait(10)
            results.append(message_regenerate(answer=answer).pk)
        except ValidationError as error:
            results.append(error.messages[0])
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(results) == 2
    assert open_answers(owner).count() == 1
    refused = [r for r in results if isinstance(r, str)]
    assert len(refused) == 1 and "already replaced" in refused[0]
