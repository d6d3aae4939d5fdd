"""Writing what one background run produced: the summary and the reconciled memories.

Called inside the caller's transaction, after every model call, together with the
conversation's `summarised_through` marker: a run killed before the commit leaves no
trace, and a re-run cannot write a range twice (SessionSummary is unique per range).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db import transaction

from memory.consolidation.reconcile import ADD, SUPERSEDE, Reconciliation
from memory.consolidation.summarise import SummaryDraft
from memory.consolidation.transcript import Transcript
from memory.models import Actor, Kind, MemoryItem, SessionSummary, Source, Status
from memory.services.items import memory_archive_superseded, memory_create

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@dataclass
class Saved:
    summary: SessionSummary
    added: list[MemoryItem] = field(default_factory=list)
    superseded: list[MemoryItem] = field(default_factory=list)  # the old items replaced


def thread_key_for(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def _summary_save(
    *, owner: User, transcript: Transcript, draft: SummaryDraft, status: str
) -> SessionSummary:
    """The summary goes live or to the review inbox under the same rule as extracted
    memories; its own conversation uses it either way (summaries_in_use)."""
    first, last = transcript.first, transcript.last
    item = memory_create(
        owner=owner,
        text=draft.text,
        kind=Kind.SUMMARY,
        source=Source.EXTRACTED,
        actor=Actor.ASSISTANT,
        status=status,
        thread_key=thread_key_for(transcript.conversation_id),
        source_ref=f"conversation:{transcript.conversation_id}:messages:{first.message_id}-"
        f"{last.message_id}",
        occurred_at=last.created_at,
        valid_from=first.created_at,
        reason=f"summary of “{transcript.title or 'a conversation'}”, "
        f"{len(transcript.messages)} messages",
    )
    return SessionSummary.objects.create(
        owner=owner,
        conversation_id=transcript.conversation_id,
        memory=item,
        first_message_id=first.message_id,
        last_message_id=last.message_id,
        message_count=len(transcript.messages),
        started_at=first.created_at,
        ended_at=last.created_at,
        model=draft.model[:200],
        prompt_tokens=draft.prompt_tokens,
        completion_tokens=draft.completion_tokens,
    )


def _defer_supersede(*, new: MemoryItem, old: MemoryItem) -> None:
    """A proposal that would replace a live memory: linked now, the old one archived only
    when the user accepts it (superseded_archive_on_accept)."""
    MemoryItem.objects.filter(pk=new.pk).update(supersedes=old)
    new.supersedes = old


def pipeline_results_save(
    *,
    owner: User,
    transcript: Transcript,
    draft: SummaryDraft,
    reconciliation: Reconciliation,
    auto_accept: bool,
    source_messages: Mapping[int, Any],
) -> Saved:
    """Write the summary and every add/supersede decision (one revision each, plus one
    on each memory that gets archived). `source_messages` maps message ids to the rows
    the assistant loaded, for provenance."""
    status = Status.ACTIVE if auto_accept else Status.PROPOSED
    title = transcript.title or f"conversation {transcript.conversation_id}"
    with transaction.atomic():
        saved = Saved(
            summary=_summary_save(owner=owner, transcript=transcript, draft=draft, status=status)
        )
        for decision in reconciliation.decisions:
            if decision.action not in (ADD, SUPERSEDE):
                continue
            candidate = decision.candidate
            message = source_messages.get(candidate.message_id) if candidate.message_id else None
            old = decision.existing if decision.action == SUPERSEDE else None
            # A proposal never takes a live memory out of use before the user accepts it.
            defer = old is not None and old.status == Status.ACTIVE and status == Status.PROPOSED
            where = f"extracted from “{title}”" + (f", message {message.pk}" if message else "")
            item = memory_create(
                owner=owner,
                text=candidate.text,
                kind=candidate.kind,
                source=Source.EXTRACTED,
                actor=Actor.ASSISTANT,
                status=status,
                source_message=message,
                quote=candidate.quote,
                confidence=candidate.confidence,
                thread_key=thread_key_for(transcript.conversation_id),
                occurred_at=message.created_at if message else transcript.last.created_at,
                valid_from=message.created_at if message else None,
                supersedes=None if defer or old is None else old,
                reason=f"{where}; {decision.why}",
            )
            if defer and old is not None:
                _defer_supersede(new=item, old=old)
            saved.added.append(item)
            if old is not None and not defer:
                saved.superseded.append(old)
    return saved


def superseded_archive_on_accept(
    *, item: MemoryItem, changed_by: User | None = None
) -> MemoryItem | None:
    """Once a proposal that supersedes a live memory is accepted, archive the old one
    (valid_to set, with a revision saying why). Returns the archived item, if any."""
    if item.supersedes_id is None:
        return None
    return memory_archive_superseded(
        old_id=item.supersedes_id,
        new=item,
        actor=Actor.USER,
        changed_by=changed_by,
        reason=f"superseded by {item.tag} (accepted in review)",
        only_live=True,
    )
