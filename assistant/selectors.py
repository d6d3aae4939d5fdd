"""Reads for the chat product. Every read is scoped to its owner first."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from assistant.models import ContextItem, Conversation, EventProposal, Message


def conversation_list(*, user) -> QuerySet[Conversation]:
    return Conversation.objects.owned_by(user).only(
        "id", "title", "updated_at", "profile", "channel"
    )


def conversation_get_for_user(*, user, conversation_id: int) -> Conversation:
    """The one permission-checked getter: someone else's conversation is a 404."""
    return get_object_or_404(Conversation.objects.owned_by(user), pk=conversation_id)


def message_get_for_user(*, user, conversation_id: int, message_id: int) -> Message:
    return get_object_or_404(
        Message.objects.owned_by(user).select_related("conversation"),
        pk=message_id,
        conversation_id=conversation_id,
    )


def _with_used_memories(messages: QuerySet[Message]) -> QuerySet[Message]:
    """Also the calendar events and file passages an answer used and the events it
    proposed (the chips and cards under it)."""
    used = ContextItem.objects.filter(
        injected=True, memory__isnull=False, memory__redacted_at__isnull=True
    ).select_related("memory")
    events = ContextItem.objects.filter(injected=True, event__isnull=False)
    # Passages whose file is gone since stay: their chips open the recorded text.
    passages = ContextItem.objects.filter(
        injected=True, source=ContextItem.Source.DOCUMENT
    ).select_related("chunk__document")
    proposals = EventProposal.objects.select_related("source")
    return messages.prefetch_related(
        Prefetch("context_items", queryset=used, to_attr="used"),
        Prefetch("context_items", queryset=events, to_attr="used_events"),
        Prefetch("context_items", queryset=passages, to_attr="used_passages"),
        Prefetch("event_proposals", queryset=proposals, to_attr="proposals"),
    )


def conversation_messages(*, conversation: Conversation) -> QuerySet[Message]:
    return _with_used_memories(conversation.messages.all())


def message_for_render(*, message_id: int) -> Message:
    return _with_used_memories(Message.objects.select_related("conversation")).get(pk=message_id)


def answer_context_items(*, answer: Message) -> QuerySet[ContextItem]:
    return answer.context_items.select_related("memory", "chunk__document").order_by(
        "-injected", "rank", "id"
    )


def proposal_get_for_user(*, user, pk: int) -> EventProposal:
    """An owner's proposed event, or 404."""
    return get_object_or_404(
        EventProposal.objects.owned_by(user).select_related("source", "answer__conversation"),
        pk=pk,
    )


def history_for_prompt(*, conversation: Conversation, before: Message, limit: int) -> list[Message]:
    """The most recent turns before `before` that are worth sending back to the model:
    user messages and answers that produced text (failed/stopped partials included, so
    the model knows what it already said)."""
    rows = (
        conversation.messages.filter(created_at__lte=before.created_at)
        .exclude(pk=before.pk)
        .exclude(role=Message.Role.ASSISTANT, content="")
        .order_by("-created_at", "-id")[:limit]
    )
    return list(reversed(rows))
