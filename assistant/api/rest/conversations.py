"""Conversations over the API: the token's user's own (browser and API channels alike),
list, get with messages, delete. The chat's selectors and services: someone else's
conversation is a 404, deleting forgets its summaries for good as on the page."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router, Status

from assistant import selectors
from assistant.api.rest.access import READ, WRITE, scoped
from assistant.api.rest.pagination import page_of
from assistant.api.rest.schemas import ConversationDetail, ConversationPage, Error
from assistant.models import Conversation, Message
from assistant.services.conversations import conversation_delete

router = Router()

ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 429: Error}


def _conversation(conversation: Conversation) -> dict:
    return {
        "id": conversation.pk,
        "title": conversation.display_title,
        "channel": conversation.channel,
        "profile": conversation.profile,
        "incognito": conversation.incognito,
        "team_id": conversation.team_id,
        "created_at": conversation.created_at,
        "updated_at": conversation.updated_at,
    }


def _message(message: Message) -> dict:
    return {
        "id": message.pk,
        "role": message.role,
        "content": message.content,
        "reasoning": message.reasoning,
        "status": message.status,
        "error": message.error,
        "model": message.model,
        "profile": message.profile,
        "prompt_tokens": message.prompt_tokens,
        "completion_tokens": message.completion_tokens,
        "created_at": message.created_at,
        "finished_at": message.finished_at,
    }


@router.get(
    "",
    response={200: ConversationPage, **ERRORS},
    url_name="conversations",
    summary="List conversations",
)
def conversations_list(
    request: HttpRequest,
    channel: Literal["web", "api"] | None = Query(
        None, description="`web`: made in the browser; `api`: through the API."
    ),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0),
):
    """Your conversations, most recently active first."""
    principal = scoped(request, READ)
    rows = Conversation.objects.owned_by(principal.user).order_by("-updated_at", "-id")
    if channel:
        rows = rows.filter(channel=channel)
    page, found = page_of(request, rows, limit=limit, offset=offset)
    return {**page, "items": [_conversation(c) for c in found]}


@router.get(
    "/{int:conversation_id}",
    response={200: ConversationDetail, **ERRORS},
    url_name="conversation",
    summary="Get a conversation with its messages",
)
def conversation_get(request: HttpRequest, conversation_id: int):
    """One conversation with its messages, oldest first."""
    principal = scoped(request, READ)
    conversation = selectors.conversation_get_for_user(
        user=principal.user, conversation_id=conversation_id
    )
    messages = conversation.messages.order_by("created_at", "id")
    return {**_conversation(conversation), "messages": [_message(m) for m in messages]}


@router.delete(
    "/{int:conversation_id}",
    response={204: None, **ERRORS},
    url_name="conversation-delete",
    summary="Delete a conversation",
)
def conversation_remove(request: HttpRequest, conversation_id: int):
    """Delete a conversation (its summaries are forgotten for good; memories taken from it
    stay)."""
    principal = scoped(request, WRITE)
    conversation = selectors.conversation_get_for_user(
        user=principal.user, conversation_id=conversation_id
    )
    conversation_delete(conversation=conversation, changed_by=principal.user)
    return Status(204, None)
