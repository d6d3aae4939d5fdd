"""The review inbox (accept, edit-then-accept, reject, in bulk) and "this is wrong".

Each function goes through items.py's writers, so every change writes a revision.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from memory import events
from memory.consolidation.save import superseded_archive_on_accept
from memory.models import Actor, MemoryItem, Status
from memory.services.items import memory_set_status, memory_update

if TYPE_CHECKING:
    from django.contrib.auth.models import User

ACCEPTED = "accepted in review"
REJECTED = "rejected in review"
MARKED_WRONG = "Marked wrong by the user"
REACTIVATED = "reactivated by the user"


class MemoryReviewError(ValueError):
    """The item is not waiting for review (accepted, rejected or forgotten meanwhile)."""


def _check_proposed(item: MemoryItem) -> None:
    if item.is_forgotten or item.status != Status.PROPOSED:
        raise MemoryReviewError(f"{item.tag} is no longer waiting for review.")


def _approval_record(items: list[MemoryItem], *, changed_by: User | None) -> None:
    """Shared (team) memory keeps who approved it and when: an accepted item whose owner
    is not the person accepting it (a team's account). Personal memory keeps neither."""
    shared = [item for item in items if changed_by is not None and item.owner_id != changed_by.pk]
    if not shared:
        return
    now = timezone.now()
    MemoryItem.objects.filter(pk__in=[item.pk for item in shared]).update(
        approved_by=changed_by, approved_at=now
    )
    for item in shared:
        item.approved_by, item.approved_at = changed_by, now


def memory_accept(
    *,
    item: MemoryItem,
    changed_by: User | None = None,
    text: str | None = None,
    actor: str = Actor.USER,
) -> MemoryItem:
    """Make a proposed memory live; with `text`, correct it first (one revision each)."""
    _check_proposed(item)
    with transaction.atomic():
        if text is not None:
            item = memory_update(
                item=item, text=text, actor=actor, changed_by=changed_by, reason="edited in review"
            )
        item = memory_set_status(
            item=item, status=Status.ACTIVE, actor=actor, changed_by=changed_by, reason=ACCEPTED
        )
        _approval_record([item], changed_by=changed_by)
        superseded_archive_on_accept(item=item, changed_by=changed_by)
        events.memory_changed_send(
            action=events.APPROVED, owner=item.owner, changed_by=changed_by, actor=actor,
            items=[item], detail={"count": 1, "edited": text is not None},
        )  # fmt: skip
        return item


def memory_reject(
    *, item: MemoryItem, changed_by: User | None = None, actor: str = Actor.USER
) -> MemoryItem:
    """Turn a proposal down: archived, so the history keeps what was proposed."""
    _check_proposed(item)
    with transaction.atomic():
        item = memory_set_status(
            item=item, status=Status.ARCHIVED, actor=actor, changed_by=changed_by, reason=REJECTED
        )
        events.memory_changed_send(
            action=events.REJECTED, owner=item.owner, changed_by=changed_by, actor=actor,
            items=[item], detail={"count": 1},
        )  # fmt: skip
        return item


def memory_review_bulk(
    *,
    owner: User,
    ids: Iterable[int],
    accept: bool,
    changed_by: User | None = None,
) -> int:
    """Accept (or reject) many proposals of `owner` at once; returns how many changed.

    Ids of other owners' items, or of items no longer waiting, are skipped.
    """
    wanted = {int(pk) for pk in ids}
    status = Status.ACTIVE if accept else Status.ARCHIVED
    reason = ACCEPTED if accept else REJECTED
    with transaction.atomic():
        items = list(MemoryItem.objects.owned_by(owner).proposed().filter(pk__in=wanted))
        for item in items:
            memory_set_status(
                item=item, status=status, actor=Actor.USER, changed_by=changed_by, reason=reason
            )
            if accept:
                superseded_archive_on_accept(item=item, changed_by=changed_by)
        if accept:
            _approval_record(items, changed_by=changed_by)
        if items:
            events.memory_changed_send(
                action=events.APPROVED if accept else events.REJECTED, owner=owner,
                changed_by=changed_by, actor=Actor.USER, items=items,
                detail={"count": len(items)},
            )  # fmt: skip
    return len(items)


def memory_mark_wrong(*, item: MemoryItem, changed_by: User | None = None) -> MemoryItem:
    """ "This is wrong": archived at once (no longer used), with the reason on record."""
    return memory_set_status(
        item=item,
        status=Status.ARCHIVED,
        actor=Actor.USER,
        changed_by=changed_by,
        reason=MARKED_WRONG,
    )


def memory_reactivate(*, item: MemoryItem, changed_by: User | None = None) -> MemoryItem:
    """Bring an archived memory back into use."""
    return memory_set_status(
        item=item,
        status=Status.ACTIVE,
        actor=Actor.USER,
        changed_by=changed_by,
        reason=REACTIVATED,
    )
