"""Prompt assembly for one chat turn."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from assistant.models import Message
from assistant.selectors import history_for_prompt

SYSTEM_PROMPT = (
    "You are a helpful, honest assistant running on the user's own hardware. "
    "Answer clearly and concisely; use Markdown for lists, tables and code. "
    "Today is {today}."
)


def chat_prompt_build(*, answer: Message) -> list[dict[str, str]]:
    """The messages sent to the model to produce `answer`.

    Reasoning is never sent back: R1's guidance is to pass only final answers."""
    today = timezone.localdate().strftime("%A %d %B %Y")
    messages = [{"role": "system", "content": SYSTEM_PROMPT.format(today=today)}]
    history = history_for_prompt(
        conversation=answer.conversation, before=answer, limit=settings.CHAT_HISTORY_MAX_MESSAGES
    )
    for row in history:
        messages.append({"role": row.role, "content": row.content})
    # Some servers reject two consecutive turns of the same role; merge them.
    merged: list[dict[str, str]] = []
    for item in messages:
        if merged and merged[-1]["role"] == item["role"] != "system":
            merged[-1] = {
                "role": item["role"],
                "content": merged[-1]["content"] + "\n\n" + item["content"],
            }
        else:
            merged.append(item)
    return merged
