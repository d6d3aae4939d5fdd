"""Prepare a turn's prompt and record what it was built from (retrieved vs injected)."""

from __future__ import annotations

from django.db import transaction

from assistant.models import ContextItem, Message
from assistant.services.calendar_context import calendar_context_build
from assistant.services.context import memory_context_build
from assistant.services.document_context import document_context_build
from assistant.services.prompt import Prompt, PromptExtra, chat_prompt_build
from assistant.teams.selectors import conversation_shared_owner_ids
from memory.embedding import QueryVector
from memory.services.items import memory_mark_used


def _question_for(answer: Message) -> str:
    latest = (
        answer.conversation.messages.filter(
            role=Message.Role.USER, created_at__lte=answer.created_at
        )
        .order_by("-created_at", "-id")
        .values_list("content", flat=True)
        .first()
    )
    return latest or ""


@transaction.atomic
def turn_prompt_prepare(*, answer: Message, **record) -> Prompt:
    """Retrieve memory, calendar and documents for the question, build the prompt, and
    save both on the answer (with any other `record` fields, e.g. the model, in the same
    write).

    Runs once per answer: the caller claimed it, so there are no earlier context rows."""
    question = _question_for(answer)
    # Embedded once, by the first search that needs it (none for a user with no memory
    # and no files), while that search ranks its full text. Documents go first: their
    # full-text ranking is the longer one, so it hides more of the model's time.
    vector = QueryVector(question)
    # The team this chat works in, if its owner is still a member: its memory and
    # sources are read beside the owner's, in the same queries.
    shared = conversation_shared_owner_ids(answer.conversation)
    documents = document_context_build(
        answer=answer, question=question, vector=vector, shared_owner_ids=shared
    )
    memory = memory_context_build(
        answer=answer, question=question, vector=vector, shared_owner_ids=shared
    )
    calendar = calendar_context_build(answer=answer, question=question, shared_owner_ids=shared)
    prompt = chat_prompt_build(
        answer=answer,
        memory_block=memory.block,
        memory_detail=memory.detail,
        extra=[
            PromptExtra("Calendar", calendar.block, calendar.detail),
            PromptExtra("Documents", documents.block, documents.detail),
        ],
    )
    rows = [*memory.items, *calendar.items, *documents.items]
    if rows:
        ContextItem.objects.bulk_create(rows)
    if calendar.proposal is not None:
        calendar.proposal.save()
    if memory.injected:
        memory_mark_used(items=[item.memory for item in memory.injected if item.memory])
    Message.objects.filter(pk=answer.pk).update(
        prompt_messages=prompt.messages,
        prompt_parts=prompt.parts,
        memory_note=memory.note,
        **record,
    )
    return prompt
