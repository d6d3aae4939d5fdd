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

from django.db import transaction
from django.utils import timezone

from memory.events import memory_erased
from memory.models import MemoryItem, MemoryRevision, Status
from memory.services.items import memory_update, revision_build
from memory.services.validation import clean_actor

REDACTED = "[redacted]"


def memory_forget(*, item: MemoryItem, actor: str, changed_by=None, reason: str = "") -> MemoryItem:
    """Soft forget: hidden from retrieval and lists at once, undoable with memory_unforget."""
    actor = clean_actor(actor)
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.is_forgotten:
            return locked
        old_status = locked.status
        locked.status = Status.ARCHIVED
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["status", "deleted_at", "updated_at"])
        revision_build(
            item=locked,
            actor=actor,
            old_text=locked.text,
            new_text=locked.text,
            old_status=old_status,
            new_status=Status.ARCHIVED,
            changed_by=changed_by,
            reason=reason or "forgotten",
        ).save()
    return locked


def memory_unforget(*, item: MemoryItem, actor: str, changed_by=None) -> MemoryItem:
    """Undo a soft forget: the item returns with the status it had before."""
    actor = clean_actor(actor)
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.is_redacted:
            raise ValueError(f"{locked.tag} was forgotten for good; it cannot be brought back.")
        if not locked.is_forgotten:
            return locked
        last_forget = (
            locked.revisions.filter(new_status=Status.ARCHIVED)
            .order_by("-created_at", "-id")
            .first()
        )
        restored = (last_forget.old_status if last_forget else "") or Status.ACTIVE
        locked.status = restored
        locked.deleted_at = None
        locked.save(update_fields=["status", "deleted_at", "updated_at"])
        revision_build(
            item=locked,
            actor=actor,
            old_text=locked.text,
            new_text=locked.text,
            old_status=Status.ARCHIVED,
            new_status=restored,
            changed_by=changed_by,
            reason="forget undone",
        ).save()
    return locked


def _redact(items: list[MemoryItem], *, actor: str, changed_by) -> None:
    """Erase the content of locked items and their revisions; one closing revision each."""
    now = timezone.now()
    ids = [item.pk for item in items]
    texts = [text for item in items for text in (item.text, item.quote) if text]
    # Reasons too: they may quote the memory (an extraction's "why", a conversation title).
    MemoryRevision.objects.filter(item_id__in=ids).update(
        old_text=REDACTED, new_text=REDACTED, reason=REDACTED
    )
    MemoryItem.objects.filter(pk__in=ids).update(
        text="",
        quote="",
        source_ref="",
        embedding=None,
        status=Status.ARCHIVED,
        pinned=False,
        deleted_at=now,
        redacted_at=now,
        updated_at=now,
    )
    MemoryRevision.objects.bulk_create(
        revision_build(
            item=item,
            actor=actor,
            old_text=REDACTED,
            new_text=REDACTED,
            old_status=item.status,
            new_status=Status.ARCHIVED,
            changed_by=changed_by,
            reason="forgotten permanently",
            created_at=now,
        )
        for item in items
    )
    memory_erased.send(sender=MemoryItem, item_ids=ids, texts=texts)


def memory_forget_permanently(*, item: MemoryItem, actor: str = "user", changed_by=None) -> None:
    """Forget for good: text, quote, source reference and vector erased; revisions redacted."""
    actor = clean_actor(actor)
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.is_redacted:
            return
        _redact([locked], actor=actor, changed_by=changed_by)
    item.refresh_from_db()


def memories_forget_permanently(
    *, items: list[MemoryItem], actor: str = "user", changed_by=None
) -> int:
    """Forget several items for good at once (one scrub of the chat copies for all)."""
    actor = clean_actor(actor)
    with transaction.atomic():
        locked = list(
            MemoryItem.objects.filter(pk__in=[item.pk for item in items], redacted_at__isnull=True)
            .order_by("pk")
            .select_for_update()
        )
        if locked:
            _redact(locked, actor=actor, changed_by=changed_by)
    return len(locked)


def memory_forget_all(
    *, owner, actor: str = "user", permanently: bool = False, changed_by=None
) -> int:
    """Forget every memory of `owner` (soft, undoable per item, unless `permanently`)."""
    actor = clean_actor(actor)
    with transaction.atomic():
        if permanently:
            items = list(
                MemoryItem.objects.owned_by(owner)
                .filter(redacted_at__isnull=True)
                .select_for_update()
            )
            _redact(items, actor=actor, changed_by=changed_by)
            return len(items)
        items = list(MemoryItem.objects.owned_by(owner).visible().select_for_update())
        now = timezone.now()
        MemoryItem.objects.filter(pk__in=[item.pk for item in items]).update(
            status=Status.ARCHIVED, deleted_at=now, updated_at=now
        )
        MemoryRevision.objects.bulk_create(
            revision_build(
                item=item,
                actor=actor,
                old_text=item.text,
                new_text=item.text,
                old_status=item.status,
                new_status=Status.ARCHIVED,
                changed_by=changed_by,
                reason="forgotten (forget all)",
                created_at=now,
            )
            for item in items
        )
        return len(items)


def memory_revision_restore(*, revision: MemoryRevision, actor: str, changed_by=None) -> MemoryItem:
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
