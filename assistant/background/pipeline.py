"""Background processing of one conversation: summarise what is new, extract memories,
reconcile them, and write everything at once.

Safe to crash and re-run:
- a worker first claims the conversation with a conditional UPDATE (an expired claim,
  or one held by the same task id after a redelivery, can be taken again);
- every model call happens before anything is written; the summary, the memories and
  the `summarised_through` marker are then written in one transaction, and the marker
  only moves if nobody moved it meanwhile (compare-and-set), so a range is never
  summarised twice and a run killed half-way leaves nothing behind.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from assistant.background.models import TaskRun
from assistant.background.runs import RunOutcome, task_run_ensure
from assistant.models import ContextItem, Conversation, Message
from assistant.profiles import backend_for_profile
from assistant.teams.models import Team
from assistant.usage.models import UsageRecord
from assistant.usage.services import usage_record_calls
from inference import InferenceError
from inference.tokens import MESSAGE_OVERHEAD_TOKENS, estimate_tokens
from memory.consolidation.extract import memories_extract
from memory.consolidation.reconcile import SKIP, SUPERSEDE, candidates_reconcile
from memory.consolidation.save import pipeline_results_save
from memory.consolidation.summarise import summary_previous_text, summary_write
from memory.consolidation.transcript import Transcript, TranscriptMessage
from memory.services.preferences import memory_is_active, memory_settings_get

# An answer still "pending" or "streaming" this long after it was created was abandoned
# (its stream died); it no longer holds back the summary.
ABANDONED_AFTER = timedelta(minutes=15)
OPEN_STATUSES = (Message.Status.PENDING, Message.Status.STREAMING)
CUT_MARK = " … [cut: too long to summarise in one piece]"
# A claim outlives the hard time limit by this much, so no second worker takes a
# conversation whose first run may still be going.
CLAIM_MARGIN_S = 60
SUMMARY_ONCE_PER_RANGE = "summary_once_per_range"  # SessionSummary's unique constraint


class RangeAlreadySummarised(Exception):
    """Another run moved the marker first; this run's writes are rolled back."""


@dataclass(frozen=True)
class Batch:
    transcript: Transcript
    rows: dict[int, Message]
    remaining: int  # settled messages after this batch, for the next run


def conversation_label(conversation: Conversation) -> str:
    return f"conversation {conversation.pk}: {conversation.display_title}"[:255]


def new_claim_token() -> str:
    return f"local-{uuid.uuid4()}"


# -- claiming ---------------------------------------------------------------------------


def claim_ttl_s() -> int:
    """How long a claim lasts: SUMMARY_CLAIM_TTL_S, and always past the hard time limit."""
    return max(settings.SUMMARY_CLAIM_TTL_S, settings.CELERY_TASK_TIME_LIMIT + CLAIM_MARGIN_S)


def conversation_claim(*, conversation_id: int, token: str, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    free = (
        Q(summary_claimed_until__isnull=True)
        | Q(summary_claimed_until__lt=now)
        | Q(summary_claimed_by=token)  # the same task, redelivered after a crash or retried
    )
    until = now + timedelta(seconds=claim_ttl_s())
    claimed = Conversation.objects.filter(free, pk=conversation_id).update(
        summary_claimed_until=until, summary_claimed_by=token
    )
    return claimed == 1


def conversation_claim_release(*, conversation_id: int, token: str) -> None:
    Conversation.objects.filter(pk=conversation_id, summary_claimed_by=token).update(
        summary_claimed_until=None, summary_claimed_by=""
    )


def conversation_summary_failed(*, conversation_id: int, error: str, token: str = "") -> None:
    """Record why the conversation could not be summarised; the sweep waits a while."""
    Conversation.objects.filter(pk=conversation_id).update(
        summary_error=error[:2000], summary_failed_at=timezone.now()
    )
    if token:
        conversation_claim_release(conversation_id=conversation_id, token=token)


def _advance_marker(*, conversation_id: int, expected: int | None, to: int, token: str) -> bool:
    fields = {"summarised_through": to, "summary_error": "", "summary_failed_at": None}
    moved = Conversation.objects.filter(pk=conversation_id, summarised_through=expected).update(
        **fields
    )
    if moved:
        conversation_claim_release(conversation_id=conversation_id, token=token)
    return moved == 1


def _violated_constraint(error: IntegrityError) -> str:
    diag = getattr(error.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) or ""


# -- choosing the messages --------------------------------------------------------------


def settled_messages(conversation: Conversation, *, now: datetime) -> Iterator[Message]:
    """Messages after the marker, oldest first, up to the first answer still being written."""
    rows = (
        conversation.messages.filter(id__gt=conversation.summarised_through or 0)
        .order_by("id")
        .only("id", "role", "content", "status", "created_at", "conversation_id")
    )
    for row in rows.iterator(chunk_size=200):
        if row.status in OPEN_STATUSES and row.created_at > now - ABANDONED_AFTER:
            return
        yield row


def unsummarised_batch(
    conversation: Conversation, *, max_tokens: int, now: datetime | None = None
) -> Batch | None:
    """The oldest settled messages that fit `max_tokens` (at least one, cut if needed)."""
    now = now or timezone.now()
    taken: list[Message] = []
    spent = 0
    truncated = capped = False
    for row in settled_messages(conversation, now=now):
        cost = estimate_tokens(row.content) + MESSAGE_OVERHEAD_TOKENS
        if taken and spent + cost > max_tokens:
            capped = True
            break
        if not taken and cost > max_tokens:
            row.content = row.content[: max_tokens * 4] + CUT_MARK  # ~4 characters a token
            truncated = True
        taken.append(row)
        spent += cost
    if not taken:
        return None
    # What the cap left for the next run (answers still being written count too: the
    # follow-up run then simply finds nothing yet).
    remaining = conversation.messages.filter(id__gt=taken[-1].pk).count() if capped else 0
    messages = tuple(
        TranscriptMessage(number, row.pk, row.role, row.content, row.created_at)
        for number, row in enumerate(taken, start=1)
    )
    transcript = Transcript(conversation.pk, conversation.title, messages, truncated)
    return Batch(transcript=transcript, rows={row.pk: row for row in taken}, remaining=remaining)


def batch_used_calendar(batch: Batch) -> bool:
    """Calendar content never becomes a live memory unreviewed: when an answer in the
    batch was given calendar events, what is extracted from it waits in the inbox."""
    return ContextItem.objects.filter(
        answer_id__in=list(batch.rows), source=ContextItem.Source.EVENT, injected=True
    ).exists()


def conversation_skip_unsummarised(*, conversation: Conversation) -> int:
    """Memory is paused: move the marker past the settled messages without reading them,
    so what was said while paused is never mined later. Returns how many were skipped."""
    ids = [row.pk for row in settled_messages(conversation, now=timezone.now())]
    if not ids:
        return 0
    moved = Conversation.objects.filter(
        pk=conversation.pk, summarised_through=conversation.summarised_through
    ).update(summarised_through=ids[-1])
    return len(ids) if moved else 0


def team_learning_off(conversation: Conversation) -> bool:
    """The conversation was started in a team that turned off learning from its chats
    (Team.extraction_enabled). Then nothing is summarised or extracted from it: session
    summaries are memories of the user too, so both count as learning. Its messages are
    passed over as while memory is paused, so turning learning back on later does not
    mine what was said meanwhile. (When on, what is learned always goes to the
    conversation owner's own memory, never to the team's.)"""
    if conversation.team_id is None:
        return False
    return Team.objects.filter(pk=conversation.team_id, extraction_enabled=False).exists()


# -- the run ----------------------------------------------------------------------------


def background_backend():
    return backend_for_profile(settings.BACKGROUND_MODEL_PROFILE)


def _usage_record(conversation: Conversation, kind: str, config, calls) -> None:
    """Record a step's model calls as soon as it returns (the tokens were spent even if
    a later step fails or another run wins the range), in the conversation's team."""
    usage_record_calls(
        user=conversation.owner, team=conversation.team, kind=kind, calls=calls,
        model=config.model, profile=settings.BACKGROUND_MODEL_PROFILE,
    )  # fmt: skip


def conversation_pipeline_run(
    *, conversation_id: int, claim_token: str, task_id: str = "", kind: str = TaskRun.Kind.SUMMARISE
) -> RunOutcome:
    """Summarise the next stretch of a conversation and extract memories from it.

    Raises InferenceError for transport trouble (retryable ones are for the caller to
    retry with the same claim token); never raises on model output.
    """
    conversation = Conversation.objects.select_related("owner").filter(pk=conversation_id).first()
    if conversation is None:
        return RunOutcome.skipped("The conversation was deleted.")
    if task_id:
        task_run_ensure(
            celery_task_id=task_id,
            owner=conversation.owner,
            kind=kind,
            target_label=conversation_label(conversation),
            conversation_id=conversation.pk,
        )
    if conversation.incognito:
        return RunOutcome.skipped("Incognito conversations are never summarised.")
    if not memory_is_active(owner=conversation.owner):
        skipped = conversation_skip_unsummarised(conversation=conversation)
        return RunOutcome.skipped(f"Memory is paused: {skipped} messages left unread.")
    if team_learning_off(conversation):
        skipped = conversation_skip_unsummarised(conversation=conversation)
        return RunOutcome.skipped(
            f"Learning from this team's chats is off: {skipped} messages left unread."
        )
    if not conversation_claim(conversation_id=conversation.pk, token=claim_token):
        return RunOutcome.skipped("Another worker is summarising this conversation.")
    try:
        return _run_claimed(conversation, claim_token)
    except RangeAlreadySummarised:
        conversation_claim_release(conversation_id=conversation.pk, token=claim_token)
        return RunOutcome.skipped(
            "Already summarised: another run summarised these messages first (or the "
            "conversation was deleted)."
        )
    except InferenceError as error:
        if not error.retryable:
            conversation_summary_failed(
                conversation_id=conversation.pk, error=error.message, token=claim_token
            )
        raise
    except Exception as error:
        conversation_summary_failed(
            conversation_id=conversation.pk, error=f"{type(error).__name__}: {error}",
            token=claim_token,
        )  # fmt: skip
        raise


def _run_claimed(conversation: Conversation, token: str) -> RunOutcome:
    owner = conversation.owner
    marker = conversation.summarised_through
    batch = unsummarised_batch(conversation, max_tokens=settings.SUMMARY_MAX_INPUT_TOKENS)
    if batch is None:
        conversation_claim_release(conversation_id=conversation.pk, token=token)
        return RunOutcome.skipped("Nothing new to summarise.")
    transcript = batch.transcript
    if not any(message.content.strip() for message in transcript.messages):
        if not _advance_marker(
            conversation_id=conversation.pk, expected=marker, to=transcript.last.message_id,
            token=token,
        ):  # fmt: skip
            raise RangeAlreadySummarised
        return RunOutcome.skipped("Only empty messages were new.")

    config = background_backend()
    draft = summary_write(
        config=config,
        transcript=transcript,
        previous=summary_previous_text(conversation_id=conversation.pk),
        max_tokens=settings.SUMMARY_MAX_OUTPUT_TOKENS,
    )
    _usage_record(conversation, UsageRecord.Kind.SUMMARY, config, draft.calls)
    extraction = memories_extract(
        config=config,
        transcript=transcript,
        summary=draft.text,
        max_tokens=settings.EXTRACTION_MAX_OUTPUT_TOKENS,
    )
    _usage_record(conversation, UsageRecord.Kind.EXTRACTION, config, extraction.calls)
    reconciliation = candidates_reconcile(
        owner=owner, candidates=extraction.candidates, config=config
    )
    _usage_record(conversation, UsageRecord.Kind.EXTRACTION, config, reconciliation.calls)
    try:
        with transaction.atomic():
            if not memory_is_active(owner=owner):  # paused while the model was busy
                conversation_claim_release(conversation_id=conversation.pk, token=token)
                return RunOutcome.skipped("Memory was paused during the run; nothing was written.")
            if team_learning_off(conversation):  # the team turned it off meanwhile
                conversation_claim_release(conversation_id=conversation.pk, token=token)
                return RunOutcome.skipped(
                    "Learning from this team's chats was turned off during the run; "
                    "nothing was written."
                )
            saved = pipeline_results_save(
                owner=owner,
                transcript=transcript,
                draft=draft,
                reconciliation=reconciliation,
                auto_accept=memory_settings_get(owner=owner).auto_accept_extracted
                and not batch_used_calendar(batch),
                source_messages=batch.rows,
            )
            if not _advance_marker(
                conversation_id=conversation.pk, expected=marker, to=transcript.last.message_id,
                token=token,
            ):  # fmt: skip
                raise RangeAlreadySummarised
    except IntegrityError as error:
        # Another run wrote a summary of this very range first (a lost race, not a failure).
        if _violated_constraint(error) == SUMMARY_ONCE_PER_RANGE:
            raise RangeAlreadySummarised from error
        raise

    problems = [p for p in (draft.problem, extraction.error) if p] + reconciliation.problems
    if extraction.dropped:
        problems.append(f"{extraction.dropped} extracted item(s) were unusable and dropped.")
    superseded = reconciliation.count(SUPERSEDE)
    skipped = reconciliation.count(SKIP)
    status = "live" if saved.added and saved.added[0].status == "active" else "for review"
    detail = (
        f"Summarised messages {transcript.first.message_id} to {transcript.last.message_id} "
        f"({len(transcript.messages)}); {len(saved.added)} new memories ({status}), "
        f"{superseded} replacing older ones, {skipped} already known."
    )
    return RunOutcome(
        detail=detail,
        problems=problems,
        remaining=batch.remaining,
        messages_summarised=len(transcript.messages),
        memories_added=len(saved.added),
        memories_superseded=superseded,
        memories_skipped=skipped,
        parse_failures=extraction.parse_failures + reconciliation.parse_failures,
        prompt_tokens=draft.prompt_tokens + extraction.prompt_tokens + reconciliation.prompt_tokens,
        completion_tokens=draft.completion_tokens
        + extraction.completion_tokens
        + reconciliation.completion_tokens,
    )
