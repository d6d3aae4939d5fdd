"""Writes for conversations and messages (keyword-only, named <noun>_<verb>)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from assistant.models import Conversation, Message
from assistant.profiles import normalise_profile
from memory.models import MemoryItem
from memory.services.forget import memories_forget_permanently

TITLE_CHARS = 60


def conversation_create(
    *, owner, profile: str | None = None, incognito: bool = False
) -> Conversation:
    return Conversation.objects.create(
        owner=owner, profile=normalise_profile(profile), incognito=incognito
    )


def conversation_update(
    *, conversation: Conversation, title: str | None = None, profile: str | None = None
) -> Conversation:
    if title is not None:
        conversation.title = title.strip()[:200]
    if profile is not None:
        conversation.profile = normalise_profile(profile)
    conversation.save(update_fields=["title", "profile", "updated_at"])
    return conversation


@transaction.atomic
def conversation_delete(*, conversation: Conversation, changed_by=None) -> None:
    """Delete a conversation and forget its summaries for good (text, vector and revisions
    erased; copies in other answers' records scrubbed). Memories extracted from it stay:
    they were reviewed (or accepted) as memories of their own."""
    summaries = list(MemoryItem.objects.filter(session_summary__conversation=conversation))
    memories_forget_permanently(items=summaries, actor="user", changed_by=changed_by)
    conversation.delete()


def validate_message_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ValidationError("Type a message first.", code="empty")
    if len(text) > settings.MAX_MESSAGE_CHARS:
        raise ValidationError(
            f"That message is {len(text):,} characters; the limit is "
            f"{settings.MAX_MESSAGE_CHARS:,}. Shorten it or split it into parts.",
            code="too_long",
        )
    return text


def _title_from(text: str) -> str:
    first_line = text.strip().splitlines()[0]
    return first_line if len(first_line) <= TITLE_CHARS else first_line[: TITLE_CHARS - 1] + "…"


@transaction.atomic
def message_send(*, conversation: Conversation, text: str) -> tuple[Message, Message]:
    """Save the user's message and a pending answer together: nothing half-saved."""
    text = validate_message_text(text)
    user_message = Message.objects.create(
        conversation=conversation, role=Message.Role.USER, content=text
    )
    answer = _answer_create(conversation=conversation)
    if not conversation.title:
        conversation.title = _title_from(text)
    conversation.save(update_fields=["title", "updated_at"])
    return user_message, answer


def _answer_create(*, conversation: Conversation) -> Message:
    return Message.objects.create(
        conversation=conversation,
        role=Message.Role.ASSISTANT,
        status=Message.Status.PENDING,
        profile=conversation.profile,
    )


@transaction.atomic
def message_regenerate(*, answer: Message) -> Message:
    """Replace an answer (finished, failed or stopped) with a fresh pending one.

    Only the latest answer can be regenerated: later turns were built on it."""
    conversation = answer.conversation
    latest = conversation.messages.order_by("-created_at", "-id").first()
    if answer.role != Message.Role.ASSISTANT or latest is None or latest.pk != answer.pk:
        raise ValidationError("Only the latest answer can be regenerated.", code="not_latest")
    if answer.is_open:
        raise ValidationError("This answer is still being written.", code="busy")
    answer.delete()
    conversation.save(update_fields=["updated_at"])
    return _answer_create(conversation=conversation)


def message_request_stop(*, message: Message) -> bool:
    """Ask the stream producing `message` to stop; it keeps the partial answer."""
    updated = Message.objects.filter(
        pk=message.pk, status__in=[Message.Status.PENDING, Message.Status.STREAMING]
    ).update(cancel_requested=True)
    if updated and message.status == Message.Status.PENDING:
        # Nothing is producing it yet: close it now so the user sees it stopped.
        Message.objects.filter(pk=message.pk, status=Message.Status.PENDING).update(
            status=Message.Status.CANCELLED,
            error="Stopped before the model started answering.",
            finished_at=timezone.now(),
        )
    return bool(updated)
