"""Forgetting (with undo), forgetting for good, and restoring an earlier text.

Forgetting for good keeps a tombstone instead of deleting the row: the item's text,
quote, source reference and vector are erased and every revision's text becomes
"[redacted]" (their reasons too, which may quote it), but the row and its revision
history (who, when, which status) stay.
That way a chat turn that once cited `[m:42]` still resolves to "a forgotten memory",
links such as `supersedes` do not dangle, and the history shows that something was
forgotten, without keeping what it said. Deleting the user deletes everything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from memory import events
from memory.events import memory_erased
from memory.models import MemoryItem, MemoryRevision, Status
from memory.services.items import memory_update
from memory.services.revisions import REDACTED, Change, memories_change, memory_change
from memory.services.validation import clean_actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

__all__ = [
    "REDACTED",
    "memories_forget_permanently",
    "memory_forget",
    "memory_forget_all",
    "memory_forget_permanently",
    "memory_revision_restore",
    "memory_unforget",
]


def _forget(reason: str) -> Callable[[MemoryItem], Change | None]:
    now = timezone.now()

    def forget(item: MemoryItem) -> Change | None:
        if item.is_forgotten:
            return None
        item.status = Status.ARCHIVED
        item.deleted_at = now
        return Change(("status", "deleted_at"), reason)

    return forget


def memory_forget(
    *,
    item: MemoryItem,
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
) -> MemoryItem:
    """Soft forget: hidden from retrieval and lists at once, undoable with memory_unforget."""
    actor = clean_actor(actor)
    return memory_change(
        item=item, apply=_forget(reason or "forgotten"), actor=actor, changed_by=changed_by,
        after=_audit(events.FORGOTTEN, actor=actor, changed_by=changed_by),
    )  # fmt: skip


def _audit(action: str, *, actor: str, changed_by: User | None) -> Callable[[MemoryItem], None]:
    def send(locked: MemoryItem) -> None:
        events.memory_changed_send(
            action=action, owner=locked.owner, changed_by=changed_by, actor=actor,
            items=[locked], detail={"count": 1},
        )  # fmt: skip

    return send


def _unforget(item: MemoryItem) -> Change | None:
    if item.is_redacted:
        raise ValueError(f"{item.tag} was forgotten for good; it cannot be brought back.")
    if not item.is_forgotten:
        return None
    last_forget = (
        item.revisions.filter(new_status=Status.ARCHIVED).order_by("-created_at", "-id").first()
    )
    item.status = (last_forget.old_status if last_forget else "") or Status.ACTIVE
    item.deleted_at = None
    return Change(("status", "deleted_at"), "forget undone")


def memory_unforget(*, item: MemoryItem, actor: str, changed_by: User | None = None) -> MemoryItem:
    """Undo a soft forget: the item returns with the status it had before."""
    actor = clean_actor(actor)
    return memory_change(
        item=item, apply=_unforget, actor=actor, changed_by=changed_by,
        after=_audit(events.UNFORGOTTEN, actor=actor, changed_by=changed_by),
    )  # fmt: skip


def _redact(
    items: QuerySet[MemoryItem], *, actor: str, changed_by: User | None, owner: User | None = None
) -> int:
    """Erase the content of these items and of their revisions; one closing revision each."""
    now = timezone.now()
    texts: list[str] = []

    def erase(item: MemoryItem) -> Change | None:
        # Reasons too: they may quote the memory (an extraction's "why", a conversation title).
        texts.extend(text for text in (item.text, item.quote) if text)
        item.text = item.quote = item.source_ref = ""
        item.embedding = None
        item.status = Status.ARCHIVED
        item.pinned = False
        item.deleted_at = item.redacted_at = now
        fields = ("text", "quote", "source_ref", "embedding", "status", "pinned")
        return Change(
            (*fields, "deleted_at", "redacted_at"),
            "forgotten permanently",
            revision_text=REDACTED,
        )

    with transaction.atomic():  # the chat copies are scrubbed in the same transaction
        erased = memories_change(
            items=items.filter(redacted_at__isnull=True),
            apply=erase,
            actor=actor,
            changed_by=changed_by,
            erase_history=True,
        )
        if erased:
            ids = [item.pk for item in erased]
            memory_erased.send(sender=MemoryItem, item_ids=ids, texts=texts)
            events.memory_changed_send(
                action=events.ERASED, owner=owner or erased[0].owner, changed_by=changed_by,
                actor=actor, items=ids, detail={"count": len(ids)},
            )  # fmt: skip
    return len(erased)


def memory_forget_permanently(
    *, item: MemoryItem, actor: str = "user", changed_by: User | None = None
) -> None:
    """Forget for good: text, quote, source reference and vector erased; revisions redacted."""
    actor = clean_actor(actor)
    _redact(MemoryItem.objects.filter(pk=item.pk), actor=actor, changed_by=changed_by)
    item.refresh_from_db()


def memories_forget_permanently(
    *,
    items: list[MemoryItem],
    actor: str = "user",
    changed_by: User | None = None,
) -> int:
    """Forget several items for good at once (one scrub of the chat copies for all)."""
    actor = clean_actor(actor)
    ids = [item.pk for item in items]
    return _redact(MemoryItem.objects.filter(pk__in=ids), actor=actor, changed_by=changed_by)


def memory_forget_all(
    *,
    owner: User,
    actor: str = "user",
    permanently: bool = False,
    changed_by: User | None = None,
) -> int:
    """Forget every memory of `owner` (soft, undoable per item, unless `permanently`)."""
    actor = clean_actor(actor)
    if permanently:
        items = MemoryItem.objects.owned_by(owner)
        return _redact(items, actor=actor, changed_by=changed_by, owner=owner)
    with transaction.atomic():
        forgotten = memories_change(
            items=MemoryItem.objects.owned_by(owner).visible(),
            apply=_forget("forgotten (forget all)"),
            actor=actor,
            changed_by=changed_by,
        )
        if forgotten:
            events.memory_changed_send(
                action=events.FORGOTTEN, owner=owner, changed_by=changed_by, actor=actor,
                items=forgotten, detail={"count": len(forgotten), "all": True},
            )  # fmt: skip
    return len(forgotten)


def memory_revision_restore(
    *, revision: MemoryRevision, actor: str, changed_by: User | None = None
) -> MemoryItem:
    """Make the item say again what it said right after `revision` (a new revision)."""
    if revision.new_text == REDACTED or revision.item.is_redacted:
        raise ValueError("That revision was redacted; there is nothing to restore.")
    if not revision.new_text:
        raise ValueError("That revision holds no text to restore.")
    return memory_update(
        item=revision.item,
        text=revision.new_text,
        actor=actor,
        changed_by=changed_by,
        reason=f"restored revision {revision.pk}",
    )
