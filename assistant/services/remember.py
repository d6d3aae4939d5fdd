"""'Remember this' on a chat message: a memory with that message as provenance."""

from __future__ import annotations

from django.core.exceptions import ValidationError

from assistant.models import Message
from memory.models import Kind, MemoryItem, Source
from memory.services.items import memory_create
from memory.services.preferences import memory_is_active

MAX_REMEMBERED_CHARS = 2000


def message_remember(*, message: Message, user) -> MemoryItem:
    conversation = message.conversation
    if conversation.incognito:
        raise ValidationError("This chat is incognito: nothing from it is remembered.")
    if not memory_is_active(owner=user):
        raise ValidationError("Memory is paused. Resume it on the Memory page first.")
    text = message.content.strip()
    if not text:
        raise ValidationError("There is nothing to remember in this message yet.")
    existing = MemoryItem.objects.owned_by(user).visible().filter(source_message=message).first()
    if existing:
        return existing
    return memory_create(
        owner=user,
        text=text[:MAX_REMEMBERED_CHARS],
        kind=Kind.FACT,
        source=Source.MESSAGE,
        actor="user",
        changed_by=user,
        source_message=message,
        quote=text[:500],
        occurred_at=message.created_at,
        reason="Saved from a chat message with “Remember this”.",
    )
