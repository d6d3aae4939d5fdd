"""The one way to change a memory, and the one module that writes MemoryRevision rows.

Every write path locks the item's row, applies its change to the locked copy, saves it
and records one revision saying what it said and its status before and after, who
(`actor`, `changed_by`) and why (`reason`): `memory_change` for one item,
`memories_change` for many at once. The other revision writers are here too: the
creation revision of new items (`revisions_record_created`), history copied from an
import file (`revisions_import`), and the erasing of a history's texts when memories
are forgotten for good (`memories_change(..., erase_history=True)`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from memory.models import MemoryItem, MemoryRevision

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REDACTED = "[redacted]"
_BATCH = 1000
_ATTNAMES = {field.name: field.attname for field in MemoryItem._meta.concrete_fields}


@dataclass(frozen=True)
class Change:
    """What an `apply` function did to one locked item: the fields it set, and why."""

    fields: tuple[str, ...]
    reason: str
    # Both texts of the revision when they are not the item's own (forgetting for good).
    revision_text: str | None = None


# Called with the locked item; changes it in place and says what it did. Returns None when
# there is nothing to change (nothing is saved or recorded then); raises to refuse.
Apply = Callable[[MemoryItem], Change | None]


def _revision(
    *,
    item: MemoryItem,
    actor: str,
    old_text: str,
    new_text: str,
    old_status: str,
    new_status: str,
    changed_by: User | None = None,
    reason: str = "",
    created_at: datetime | None = None,
    source_actor: str = "",
) -> MemoryRevision:
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


def _applied(
    *,
    item: MemoryItem,
    apply: Apply,
    actor: str,
    changed_by: User | None,
    created_at: datetime | None = None,
) -> tuple[Change, MemoryRevision] | None:
    old_text, old_status = item.text, item.status
    change = apply(item)
    if change is None:
        return None
    revision = _revision(
        item=item,
        actor=actor,
        old_text=old_text if change.revision_text is None else change.revision_text,
        new_text=item.text if change.revision_text is None else change.revision_text,
        old_status=old_status,
        new_status=item.status,
        changed_by=changed_by,
        reason=change.reason,
        created_at=created_at,
    )
    return change, revision


def memory_change(
    *,
    item: MemoryItem,
    apply: Apply,
    actor: str,
    changed_by: User | None = None,
    after: Callable[[MemoryItem], None] | None = None,
) -> MemoryItem:
    """Lock `item`'s row, apply the change to the locked copy, save it and write its one
    revision, in one transaction. Returns the locked copy (unchanged if `apply` said so).
    `after(locked)` runs in that transaction once a change is written (the audit signal)."""
    with transaction.atomic():
        locked: MemoryItem = MemoryItem.objects.select_for_update().get(pk=item.pk)
        applied = _applied(item=locked, apply=apply, actor=actor, changed_by=changed_by)
        if applied is None:
            return locked
        change, revision = applied
        locked.save(update_fields=[*change.fields, "updated_at"])
        revision.save()
        if after is not None:
            after(locked)
    return locked


def memories_change(
    *,
    items: QuerySet[MemoryItem],
    apply: Apply,
    actor: str,
    changed_by: User | None = None,
    erase_history: bool = False,
) -> list[MemoryItem]:
    """`memory_change` for every item of `items` at once: rows locked in id order, one
    UPDATE per distinct set of new values, the revisions in one INSERT. Returns the items
    that changed. With `erase_history`, the texts and reasons of their earlier revisions
    become REDACTED first (reasons may quote the memory)."""
    now = timezone.now()
    with transaction.atomic():
        locked = list(items.order_by("pk").select_for_update())
        changed: list[tuple[MemoryItem, Change]] = []
        revisions = []
        for item in locked:
            applied = _applied(
                item=item, apply=apply, actor=actor, changed_by=changed_by, created_at=now
            )
            if applied is not None:
                item.updated_at = now
                changed.append((item, applied[0]))
                revisions.append(applied[1])
        _save_many(changed)
        if erase_history and changed:
            MemoryRevision.objects.filter(item_id__in=[item.pk for item, _ in changed]).update(
                old_text=REDACTED, new_text=REDACTED, reason=REDACTED
            )
        MemoryRevision.objects.bulk_create(revisions, batch_size=_BATCH)
    return [item for item, _ in changed]


def _save_many(changed: list[tuple[MemoryItem, Change]]) -> None:
    """One UPDATE for all the items given the same new values (forget all, forget for
    good); an item whose values cannot be grouped is saved on its own."""
    groups: dict[tuple[Any, ...], list[int]] = {}
    for item, change in changed:
        fields = (*change.fields, "updated_at")
        attnames = tuple(_ATTNAMES[field] for field in fields)
        values = tuple(getattr(item, attname) for attname in attnames)
        try:
            groups.setdefault((attnames, values), []).append(item.pk)
        except TypeError:  # unhashable (a vector): no grouping
            item.save(update_fields=list(fields))
    for (attnames, values), ids in groups.items():
        MemoryItem.objects.filter(pk__in=ids).update(**dict(zip(attnames, values, strict=True)))


def revisions_record_created(
    *,
    items: Sequence[MemoryItem],
    actor: str,
    changed_by: User | None = None,
    reason: str = "",
    created_at: datetime | None = None,
) -> None:
    """The first revision of each new item: no text or status before, its own after."""
    MemoryRevision.objects.bulk_create(
        [
            _revision(
                item=item,
                actor=actor,
                old_text="",
                new_text=item.text,
                old_status="",
                new_status=item.status,
                changed_by=changed_by,
                reason=reason or "created",
                created_at=created_at,
            )
            for item in items
        ],
        batch_size=_BATCH,
    )


def revisions_import(*, history: Iterable[tuple[MemoryItem, Sequence[dict[str, Any]]]]) -> None:
    """History copied from an import file onto the new items, as it was cleaned
    (transfer._clean_revision: actor "import", the file's actor as `source_actor`)."""
    MemoryRevision.objects.bulk_create(
        [_revision(item=item, **revision) for item, revisions in history for revision in revisions],
        batch_size=_BATCH,
    )
