"""Reads for the memory page. Every read is scoped to its owner first.

The owner is whose memory a page shows: the signed-in user, or a team's account on a
team's memory page (memory/spaces.py); the views pass `space_of(request).owner`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from memory.models import MemoryItem, MemoryRevision, Status
from memory.search import BACKGROUND_SIGNALS, memory_search

# The status filter's choices on the memory page: "" means everything that is not
# waiting for review; "forgotten" means soft-forgotten items that can still be undone.
FORGOTTEN = "forgotten"
LISTED_STATUSES = (Status.ACTIVE, Status.ARCHIVED)
STATUS_FILTERS = (
    ("", "Active & archived"),
    (Status.ACTIVE, "Active"),
    (Status.PROPOSED, "Waiting for review"),
    (Status.ARCHIVED, "Archived"),
    (FORGOTTEN, "Forgotten (undo possible)"),
)
SEARCH_LIMIT = 50

# How the retriever's signals read to a person (see memory/search/fusion.py). The
# background signals (BACKGROUND_SIGNALS) nudge every candidate: they are not shown.
SIGNAL_LABELS = {
    "vector": "meaning",
    "text": "words",
    "time": "the time you named",
    "when": "a date in it",
    "pinned": "pinned",
    "neighbour": "same conversation",
    "thread": "same conversation",
}


def _with_provenance(queryset: QuerySet[MemoryItem]) -> QuerySet[MemoryItem]:
    return queryset.select_related("source_message", "supersedes", "proposed_by", "approved_by")


def memory_get_for_owner(*, owner, pk: int) -> MemoryItem:
    """The one permission-checked getter: a memory of another owner is a 404.

    Forgotten items (soft or for good) are returned too: undo needs them, and a chat
    that once cited `[m:42]` links to its page, which then says it was forgotten.
    """
    return get_object_or_404(_with_provenance(MemoryItem.objects.owned_by(owner)), pk=pk)


def memory_revision_get_for_owner(*, owner, pk: int, revision_pk: int) -> MemoryRevision:
    return get_object_or_404(
        MemoryRevision.objects.select_related("item").filter(item__owner=owner, item_id=pk),
        pk=revision_pk,
    )


def memory_revisions(*, item: MemoryItem) -> QuerySet[MemoryRevision]:
    """Newest first, as a history reads."""
    return item.revisions.select_related("changed_by").order_by("-created_at", "-id")


def memory_list(
    *, owner, kind: str = "", source: str = "", status: str = ""
) -> QuerySet[MemoryItem]:
    """The plain listing, newest first."""
    items = MemoryItem.objects.owned_by(owner)
    if status == FORGOTTEN:
        items = items.forgotten()
    elif status:
        items = items.with_status(status)
    else:
        items = items.with_status(*LISTED_STATUSES)
    if kind:
        items = items.filter(kind=kind)
    if source:
        items = items.filter(source=source)
    return _with_provenance(items).order_by("-created_at", "-id")


def memory_proposed(*, owner) -> QuerySet[MemoryItem]:
    """The review inbox: what the assistant (or a team member) proposes, oldest first."""
    return _with_provenance(MemoryItem.objects.owned_by(owner).proposed()).order_by(
        "created_at", "id"
    )


@dataclass
class MemoryHit:
    """One search result as the page shows it."""

    item: MemoryItem
    score: float | None = None
    signals: list[str] = field(default_factory=list)


def signal_labels(signals) -> list[str]:
    """Readable names of the signals that matched (a mapping of scores, or names)."""
    if not signals:
        return []
    if isinstance(signals, Mapping):
        names: Iterable = [name for name, value in signals.items() if value]
    elif isinstance(signals, str):
        names = [signals]
    else:
        names = signals
    labels: list[str] = []
    for name in names:
        if str(name) in BACKGROUND_SIGNALS:
            continue
        label = SIGNAL_LABELS.get(str(name), str(name).replace("_", " "))
        if label not in labels:
            labels.append(label)
    return labels


def memory_find(
    *, owner, query: str, kind: str = "", source: str = "", status: str = ""
) -> list[MemoryHit]:
    """Search with the same hybrid retriever the chat uses, then apply the page's filters.

    The retriever never sees forgotten items, so searching those is a plain text match.
    """
    if status == FORGOTTEN:
        items = memory_list(owner=owner, kind=kind, source=source, status=status)
        return [MemoryHit(item=item) for item in items.filter(text__icontains=query)[:SEARCH_LIMIT]]

    statuses = (status,) if status else LISTED_STATUSES
    results = memory_search(
        owner=owner,
        query=query,
        limit=SEARCH_LIMIT,
        kinds=[kind] if kind else None,
        statuses=tuple(str(s) for s in statuses),
    )
    ids = [result.item.pk for result in results]
    # Re-read the items scoped to the owner, with provenance, in the retriever's order.
    fresh = memory_list(owner=owner, kind=kind, source=source, status=status).in_bulk(ids)
    return [
        MemoryHit(
            item=fresh[result.item.pk],
            score=result.score,
            signals=signal_labels(getattr(result, "signals", None)),
        )
        for result in results
        if result.item.pk in fresh
    ]
