"""Creating and editing memory items. Every change writes one MemoryRevision."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from memory.embedding import configured_model_name, embed_texts
from memory.models import MemoryItem, MemoryRevision, Status
from memory.services.validation import (
    MemoryFieldError,
    clean_actor,
    clean_choice,
    clean_spec,
    clean_text,
)


def revision_build(
    *,
    item: MemoryItem,
    actor: str,
    old_text: str,
    new_text: str,
    old_status: str,
    new_status: str,
    changed_by=None,
    reason: str = "",
    created_at: datetime | None = None,
    source_actor: str = "",
) -> MemoryRevision:
    """An unsaved revision (callers save it, or bulk-create many)."""
    return MemoryRevision(
        item=item,
        old_text=old_text,
        new_text=new_text,
        old_status=old_status,
        new_status=new_status,
        actor=actor,
        changed_by=changed_by,
        reason=reason,
        source_actor=source_actor,
        created_at=created_at or timezone.now(),
    )


def memory_create(
    *,
    owner,
    text: str,
    kind: str,
    source: str,
    actor: str,
    source_message=None,
    quote: str = "",
    source_ref: str = "",
    occurred_at: datetime | None = None,
    status: str = Status.ACTIVE,
    pinned: bool = False,
    confidence: float | None = None,
    reason: str = "",
    thread_key: str = "",
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    supersedes: MemoryItem | None = None,
    changed_by=None,
) -> MemoryItem:
    """Remember one thing. `supersedes` archives the item it replaces (with a revision)."""
    spec = {
        "text": text,
        "kind": kind,
        "source": source,
        "status": status,
        "source_message": source_message,
        "quote": quote,
        "source_ref": source_ref,
        "thread_key": thread_key,
        "occurred_at": occurred_at,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "pinned": pinned,
        "confidence": confidence,
        "supersedes": supersedes,
    }
    (item,) = memory_bulk_create(
        owner=owner, items=[spec], actor=actor, changed_by=changed_by, reason=reason
    )
    return item


def memory_bulk_create(
    *,
    owner,
    items: Sequence[dict[str, Any]],
    actor: str,
    changed_by=None,
    reason: str = "",
    batch_size: int | None = None,
    vectors: Sequence | None = None,
) -> list[MemoryItem]:
    """Remember many things at once: one batched embedding pass, one transaction.

    Each dict takes memory_create's keyword arguments (text is required). Raises
    MemoryFieldError naming the first bad item; nothing is written then. `vectors`, when
    given, are the texts' embeddings by the configured model, computed by the caller.
    """
    actor = clean_actor(actor)
    specs = []
    for index, raw in enumerate(items):
        try:
            specs.append(clean_spec(raw))
        except MemoryFieldError as error:
            raise MemoryFieldError(f"items[{index}].{error.field}", error.message) from None
        superseded = specs[-1]["supersedes"]
        if superseded is not None and superseded.owner_id != owner.pk:
            raise MemoryFieldError(f"items[{index}].supersedes", "belongs to another owner")
    if not specs:
        return []
    if vectors is None:
        # Embed before the transaction: no locks are held while the model runs.
        vectors = embed_texts([spec["text"] for spec in specs], batch_size=batch_size)
    elif len(vectors) != len(specs):
        raise ValueError(f"{len(vectors)} vectors for {len(specs)} memories")
    model_name = configured_model_name()
    now = timezone.now()
    rows = [
        MemoryItem(
            owner=owner,
            embedding=vector,
            embedding_model=model_name,
            created_at=now,
            **spec,
        )
        for spec, vector in zip(specs, vectors, strict=True)
    ]
    with transaction.atomic():
        MemoryItem.objects.bulk_create(rows, batch_size=500)
        revisions = [
            revision_build(
                item=row,
                actor=actor,
                old_text="",
                new_text=row.text,
                old_status="",
                new_status=row.status,
                changed_by=changed_by,
                reason=reason or "created",
                created_at=now,
            )
            for row in rows
        ]
        for row in rows:
            if row.supersedes is not None:
                revisions.append(
                    _supersede(old=row.supersedes, new=row, actor=actor, by=changed_by)
                )
        MemoryRevision.objects.bulk_create(revisions, batch_size=1000)
    return rows


def _supersede(*, old: MemoryItem, new: MemoryItem, actor: str, by) -> MemoryRevision:
    locked = MemoryItem.objects.select_for_update().get(pk=old.pk)
    old_status = locked.status
    locked.status = Status.ARCHIVED
    locked.valid_to = locked.valid_to or timezone.now()
    locked.save(update_fields=["status", "valid_to", "updated_at"])
    return revision_build(
        item=locked,
        actor=actor,
        old_text=locked.text,
        new_text=locked.text,
        old_status=old_status,
        new_status=Status.ARCHIVED,
        changed_by=by,
        reason=f"superseded by {new.tag}",
    )


def memory_update(
    *, item: MemoryItem, text: str, actor: str, changed_by=None, reason: str = ""
) -> MemoryItem:
    """Change what a memory says; re-embeds it. An unchanged text writes nothing."""
    actor = clean_actor(actor)
    text = clean_text(text)
    if item.is_redacted:
        raise ValueError(f"{item.tag} was forgotten for good and cannot be edited.")
    vector = embed_texts([text])[0]
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.text == text:
            return locked
        old_text = locked.text
        locked.text = text
        locked.embedding = vector
        locked.embedding_model = configured_model_name()
        locked.save(update_fields=["text", "embedding", "embedding_model", "updated_at"])
        revision_build(
            item=locked,
            actor=actor,
            old_text=old_text,
            new_text=text,
            old_status=locked.status,
            new_status=locked.status,
            changed_by=changed_by,
            reason=reason or "edited",
        ).save()
    locked.refresh_from_db(fields=["search"])
    return locked


def memory_set_status(
    *, item: MemoryItem, status: str, actor: str, changed_by=None, reason: str = ""
) -> MemoryItem:
    """Archive, re-activate, or accept/reject a proposed memory. Forgotten ones need unforget."""
    actor = clean_actor(actor)
    status = clean_choice(status, "status", Status)
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.is_forgotten:
            raise ValueError(f"{locked.tag} is forgotten; undo the forget first.")
        if locked.status == status:
            return locked
        old_status = locked.status
        locked.status = status
        locked.save(update_fields=["status", "updated_at"])
        revision_build(
            item=locked,
            actor=actor,
            old_text=locked.text,
            new_text=locked.text,
            old_status=old_status,
            new_status=status,
            changed_by=changed_by,
            reason=reason or f"{old_status} → {status}",
        ).save()
    return locked


def memory_pin(
    *, item: MemoryItem, actor: str, pinned: bool = True, changed_by=None, reason: str = ""
) -> MemoryItem:
    """Pin (or unpin) a memory: pinned ones are preferred by retrieval."""
    actor = clean_actor(actor)
    with transaction.atomic():
        locked = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if locked.pinned == pinned:
            return locked
        locked.pinned = pinned
        locked.save(update_fields=["pinned", "updated_at"])
        revision_build(
            item=locked,
            actor=actor,
            old_text=locked.text,
            new_text=locked.text,
            old_status=locked.status,
            new_status=locked.status,
            changed_by=changed_by,
            reason=reason or ("pinned" if pinned else "unpinned"),
        ).save()
    return locked


def memory_mark_used(*, items: Iterable[MemoryItem]) -> int:
    """Record that these memories were put in front of the model (bookkeeping, no revision)."""
    ids = {item.pk for item in items}
    if not ids:
        return 0
    return MemoryItem.objects.filter(pk__in=ids).update(
        last_used_at=timezone.now(), use_count=F("use_count") + 1
    )
