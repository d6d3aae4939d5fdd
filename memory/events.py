"""Notifications memory sends to the layers above it (which it must not import).

`memory_erased` is sent inside the transaction of a permanent forget, with the ids and
the texts being erased, so that copies kept elsewhere (a chat answer's record of what
it was given) can be scrubbed in the same transaction.

`memory_changed` says that someone created, edited, pinned, forgot, reviewed, exported,
imported or proposed memories (assistant records it in the audit log). It is sent inside the
transaction of the change, after the change is written: a receiver's own rows commit with
the change or roll back with it, so a record never outlives a change that was undone (and a
receiver that fails undoes the change). It never carries a memory's text, nor a reason
(reasons may quote it): a record must not keep what a permanent forget erases.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.dispatch import Signal

memory_erased = Signal()  # kwargs: item_ids: list[int], texts: list[str]

# kwargs: action (one of ACTIONS), owner (User), changed_by (User | None: None is the
# system, e.g. extraction), actor (the revision's actor: user, assistant, system, import),
# item_ids (list[int]), detail (dict of counts and labels, never texts).
memory_changed = Signal()

CREATED = "created"
EDITED = "edited"
PINNED = "pinned"
UNPINNED = "unpinned"
FORGOTTEN = "forgotten"
UNFORGOTTEN = "unforgotten"
ERASED = "erased"  # forgotten for good
APPROVED = "approved"
REJECTED = "rejected"
EXPORTED = "exported"
IMPORTED = "imported"
PROPOSED = "proposed"  # a member proposed a memory to a team (memory/services/proposals.py)
EDIT_PROPOSED = "edit_proposed"  # a member proposed a new text for a team memory
ACTIONS = [CREATED, EDITED, PINNED, UNPINNED, FORGOTTEN, UNFORGOTTEN, ERASED, APPROVED]
ACTIONS += [REJECTED, EXPORTED, IMPORTED, PROPOSED, EDIT_PROPOSED]


def memory_changed_send(
    *,
    action: str,
    owner: Any,
    changed_by: Any = None,
    actor: str = "",
    items: Iterable[Any] = (),
    detail: dict[str, Any] | None = None,
) -> None:
    """Send `memory_changed` for these items (model instances or ids)."""
    ids = [getattr(item, "pk", item) for item in items]
    memory_changed.send(
        sender=memory_changed_send,
        action=action,
        owner=owner,
        changed_by=changed_by,
        actor=str(actor),
        item_ids=ids,
        detail=detail or {},
    )
