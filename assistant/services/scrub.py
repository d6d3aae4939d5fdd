"""Scrub chat records of memories the user forgot for good.

An answer keeps what it was given (ContextItem.text and the exact prompt) for the
context inspector; a permanent forget must erase those copies too.
"""

from __future__ import annotations

from assistant.models import ContextItem, Message
from inference.fencing import fence_escape

FORGOTTEN = "[forgotten]"


def answers_scrub_memories(*, item_ids: list[int], texts: list[str], **_) -> int:
    rows = ContextItem.objects.filter(memory_id__in=item_ids)
    answer_ids = set(rows.values_list("answer_id", flat=True))
    rows.update(text=FORGOTTEN)
    # The fenced prompt holds each text JSON-encoded; older prompts hold it raw.
    variants = {variant for t in texts if t for variant in (fence_escape(t), t)}
    texts = sorted(variants, key=len, reverse=True)
    for answer in Message.objects.filter(pk__in=answer_ids).only("id", "prompt_messages"):
        messages = answer.prompt_messages
        for message in messages:
            for text in texts:
                message["content"] = message.get("content", "").replace(text, FORGOTTEN)
        Message.objects.filter(pk=answer.pk).update(prompt_messages=messages)
    return len(answer_ids)
