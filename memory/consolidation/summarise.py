"""Rolling session summaries: writing one with the model, and reading them back.

A summary covers the messages new since the previous one, with the previous summary
given as context only. Its text and vector are a MemoryItem of kind "summary", so the
one retriever (memory_search) finds it next to every other memory.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from django.db.models import QuerySet

from inference import BackendConfig, Usage, complete_chat
from inference.structured_ask import reported_usage
from memory.consolidation.transcript import Transcript
from memory.models import SessionSummary, Status

SUMMARY_SYSTEM = (
    "You keep the notes of a conversation between a user and an AI assistant. Summarise "
    "the NEW messages below for the assistant's long-term memory: what was asked, what "
    "was decided or agreed, facts and plans the user mentioned, and what is still open. "
    "Name concrete things (places, products, dates, numbers). Write plain prose, at most "
    "150 words, in the past tense, without a heading. The earlier summary is context only: "
    "do not repeat it."
)
EXCERPT_CHARS = 160


@dataclass(frozen=True)
class SummaryDraft:
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    model: str = ""
    problem: str = ""  # set when the model's reply was unusable and an excerpt stands in
    # The model call's tokens as the server reported them (0 and 0 when it reported none;
    # the counts above are estimated then), for the usage records the assistant writes.
    calls: tuple[Usage, ...] = ()


def summary_messages(*, transcript: Transcript, previous: str) -> list[dict[str, str]]:
    earlier = previous.strip() or "(none: this is the start of the conversation)"
    title = transcript.title or "(untitled)"
    user = (
        f"Conversation: {title}\n\nEarlier summary (context only):\n{earlier}\n\n"
        f"New messages:\n{transcript.render()}\n\nWrite the summary of the new messages now."
    )
    return [{"role": "system", "content": SUMMARY_SYSTEM}, {"role": "user", "content": user}]


def _excerpt(transcript: Transcript) -> str:
    """A plain stand-in when the model returns nothing usable: what the user said."""
    lines = []
    for message in transcript.messages:
        if message.role == "user" and message.content.strip():
            text = " ".join(message.content.split())
            short = text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1] + "…"
            lines.append(f"The user said: “{short}”")
    return "\n".join(lines) or "The conversation continued without messages from the user."


def summary_write(
    *, config: BackendConfig, transcript: Transcript, previous: str, max_tokens: int
) -> SummaryDraft:
    """Ask the model for the summary of `transcript` (raises InferenceError on transport
    trouble). Reasoning is dropped; an empty reply becomes an excerpt of the messages."""
    result = complete_chat(
        dataclasses.replace(config, max_tokens=max_tokens),
        summary_messages(transcript=transcript, previous=previous),
    )
    text = result.content.strip()
    problem = ""
    if not text:
        text = _excerpt(transcript)
        problem = "The model's summary was empty; an excerpt of the messages was kept instead."
    elif result.finish_reason == "length":
        problem = "The summary hit the output limit and may end mid-sentence."
    return SummaryDraft(
        text=text,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        model=config.model,
        problem=problem,
        calls=(reported_usage(result),),
    )


# Inside its own conversation a summary is used while it waits for review; anywhere else
# only once it is active (memory_search and the chat read active memories only).
OWN_CONVERSATION_STATUSES = (Status.ACTIVE, Status.PROPOSED)


def summaries_in_use(*, conversation_id: int) -> QuerySet[SessionSummary]:
    """A conversation's summaries still in use there: active or waiting for review, not
    rejected, archived or forgotten."""
    return (
        SessionSummary.objects.filter(conversation_id=conversation_id)
        .filter(memory__status__in=OWN_CONVERSATION_STATUSES, memory__deleted_at__isnull=True)
        .select_related("memory")
    )


def summary_previous_text(*, conversation_id: int) -> str:
    latest = summaries_in_use(conversation_id=conversation_id).order_by("-last_message_id").first()
    return latest.memory.text if latest else ""


def summaries_for_prompt(
    *, conversation_id: int, before_message_id: int, token_budget: int, estimate
) -> list[SessionSummary]:
    """The newest summaries covering messages older than `before_message_id`, as many
    as fit `token_budget` (by `estimate(text)`), oldest first; none while the owner's
    memory is paused."""
    if token_budget <= 0:
        return []
    # Paused memory is checked in the same query: a turn pays one query for this.
    rows = (
        summaries_in_use(conversation_id=conversation_id)
        .filter(first_message_id__lt=before_message_id)
        .exclude(owner__memory_settings__paused=True)
    )
    chosen: list[SessionSummary] = []
    spent = 0
    for row in rows.order_by("-last_message_id")[:20]:
        cost = estimate(row.memory.text) + 12
        if spent + cost > token_budget:
            break
        chosen.append(row)
        spent += cost
    return list(reversed(chosen))
