"""Memories over the API: list, search (the chat's retriever), get, create, edit, pin,
forget (and undo), history, and for a team's members proposals. Export and import are in
memory_transfer.py.

Thin adapters over memory's selectors and services, exactly as the memory pages call them
(memory/views): the item is read in the space's owner first (another owner's is 404), a
change needs a space the user manages, and the signed-in user (the token's) is the one who
changed it.
"""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Query, Router
from ninja import Status as Reply

from assistant.api.rest.access import (
    READ,
    WRITE,
    ApiProblem,
    SpaceName,
    read_space,
    scoped,
    space_for,
    write_space,
)
from assistant.api.rest.memory_transfer import add_transfer_routes
from assistant.api.rest.pagination import page_of
from assistant.api.rest.schemas import (
    Error,
    KindName,
    ListStatus,
    MemoryCreate,
    MemoryOut,
    MemoryPage,
    MemoryPatch,
    MemoryProposeEdit,
    MemorySearchOut,
    RevisionOut,
)
from memory import selectors
from memory.models import Actor, MemoryItem, Source, Status
from memory.search import memory_search
from memory.services import (
    memory_create,
    memory_forget,
    memory_forget_permanently,
    memory_pin,
    memory_unforget,
    memory_update,
)
from memory.services.proposals import ProposalError, memory_edit_propose, memory_promote
from memory.services.validation import MemoryFieldError
from memory.spaces import Space

router = Router()

ERRORS = {400: Error, 401: Error, 403: Error, 404: Error, 409: Error, 429: Error}
API_REASON = "through the API"


def _out(item: MemoryItem, space: Space) -> dict:
    return MemoryOut.of(item, space="team" if space.is_team else "personal")


def _item(space: Space, memory_id: int) -> MemoryItem:
    """The memory of the space's owner (404 for anyone else's)."""
    return selectors.memory_get_for_owner(owner=space.owner, pk=memory_id)


def _refused(error: ValueError) -> ApiProblem:
    if isinstance(error, MemoryFieldError | ProposalError):
        return ApiProblem(400, "invalid_memory", str(error))
    return ApiProblem(409, "conflict", str(error))


@router.get("", response={200: MemoryPage, **ERRORS}, url_name="memories", summary="List memories")
def memories_list(
    request: HttpRequest,
    space: SpaceName = "personal",
    kind: KindName | None = None,  # type: ignore[valid-type]
    status: ListStatus | None = None,
    pinned: bool | None = None,
    source: Literal[tuple(Source.values)] | None = None,  # type: ignore[valid-type]
    q: str = Query("", description="Words the text contains (for ranked search: /search)."),
    limit: int = Query(20, ge=1, le=100),
    offset: int = Query(0, ge=0),
):
    """The space's memories, newest first. `status`: active and archived unless given;
    `proposed` is the review inbox, `forgotten` what can still be brought back."""
    where = read_space(request, space)
    items = selectors.memory_list(
        owner=where.owner, kind=kind or "", source=source or "", status=status or ""
    )
    if pinned is not None:
        items = items.filter(pinned=pinned)
    if q.strip():
        items = items.filter(text__icontains=q.strip())
    page, rows = page_of(request, items, limit=limit, offset=offset)
    return {**page, "items": [_out(item, where) for item in rows]}


@router.get(
    "/search",
    response={200: MemorySearchOut, **ERRORS},
    url_name="memory-search",
    summary="Search memories",
)
def memories_search(
    request: HttpRequest,
    q: str = Query(..., min_length=1, max_length=1000),
    space: Literal["all", "personal", "team"] = Query(
        "all",
        description="`all`: as the chat reads it (yours, and the token's team's if it has one).",
    ),
    kind: KindName | None = None,  # type: ignore[valid-type]
    limit: int = Query(10, ge=1, le=50),
):
    """Search active memories with the chat's hybrid retriever (meaning and words)."""
    principal = scoped(request, READ)
    if space == "all":
        owner, shared = principal.user, principal.shared_owner_ids
    else:
        owner, shared = space_for(principal, space).owner, ()
    hits = memory_search(
        owner=owner,
        query=q,
        limit=limit,
        kinds=[kind] if kind else None,
        shared_owner_ids=shared,
    )
    return {
        "query": q,
        "hits": [
            {
                "memory": MemoryOut.of(
                    hit.item, space="personal" if hit.item.owner_id == principal.user.pk else "team"
                ),
                "score": float(hit.score),
                "rank": hit.rank,
                "signals": {name: float(value) for name, value in hit.signals.items()},
            }
            for hit in hits
        ],
    }


add_transfer_routes(router, errors=ERRORS)


@router.get(
    "/{int:memory_id}",
    response={200: MemoryOut, **ERRORS},
    url_name="memory",
    summary="Get a memory",
)
def memory_get(request: HttpRequest, memory_id: int, space: SpaceName = "personal"):
    where = read_space(request, space)
    return _out(_item(where, memory_id), where)


@router.post(
    "", response={201: MemoryOut, **ERRORS}, url_name="memory-create", summary="Add a memory"
)
def memory_add(request: HttpRequest, body: MemoryCreate, space: SpaceName = "personal"):
    """Remember something (as stated by you). A team's memory takes it from its admins."""
    where = write_space(request, space)
    try:
        item = memory_create(
            owner=where.owner,
            text=body.text,
            kind=body.kind,
            source=Source.STATED,
            actor=Actor.USER,
            pinned=body.pinned,
            changed_by=where.actor,
            reason=f"added {API_REASON}",
        )
    except ValueError as error:
        raise _refused(error) from None
    return Reply(201, _out(item, where))


@router.patch(
    "/{int:memory_id}",
    response={200: MemoryOut, **ERRORS},
    url_name="memory-edit",
    summary="Edit a memory",
)
def memory_edit(
    request: HttpRequest, memory_id: int, body: MemoryPatch, space: SpaceName = "personal"
):
    """Change the text (re-embedded, with a revision) and/or the pin."""
    where = write_space(request, space)
    item = _item(where, memory_id)
    if item.is_forgotten:
        raise ApiProblem(409, "forgotten", "Forgotten memories cannot be edited.")
    try:
        if body.text is not None:
            item = memory_update(
                item=item,
                text=body.text,
                actor=Actor.USER,
                changed_by=where.actor,
                reason=f"edited {API_REASON}",
            )
        if body.pinned is not None:
            item = memory_pin(
                item=item, actor=Actor.USER, pinned=body.pinned, changed_by=where.actor
            )
    except ValueError as error:
        raise _refused(error) from None
    return _out(item, where)


def _pin(request: HttpRequest, memory_id: int, space: str, *, pinned: bool) -> dict:
    where = write_space(request, space)
    item = _item(where, memory_id)
    if item.is_forgotten:
        raise ApiProblem(409, "forgotten", "Forgotten memories cannot be pinned.")
    item = memory_pin(item=item, actor=Actor.USER, pinned=pinned, changed_by=where.actor)
    return _out(item, where)


@router.post(
    "/{int:memory_id}/pin",
    response={200: MemoryOut, **ERRORS},
    url_name="memory-pin",
    summary="Pin a memory",
)
def memory_pin_view(request: HttpRequest, memory_id: int, space: SpaceName = "personal"):
    """Pinned memories are preferred by retrieval (and always in the chat's prompt)."""
    return _pin(request, memory_id, space, pinned=True)


@router.post(
    "/{int:memory_id}/unpin",
    response={200: MemoryOut, **ERRORS},
    url_name="memory-unpin",
    summary="Unpin a memory",
)
def memory_unpin_view(request: HttpRequest, memory_id: int, space: SpaceName = "personal"):
    return _pin(request, memory_id, space, pinned=False)


@router.post(
    "/{int:memory_id}/forget",
    response={200: MemoryOut, **ERRORS},
    url_name="memory-forget",
    summary="Forget a memory",
)
def memory_forget_view(
    request: HttpRequest,
    memory_id: int,
    space: SpaceName = "personal",
    permanently: bool = Query(
        False, description="Erase the text, quote and vector for good (no undo)."
    ),
):
    """Forget: hidden from retrieval and lists at once; undo with /unforget, unless
    `permanently`."""
    where = write_space(request, space)
    item = _item(where, memory_id)
    if permanently:
        memory_forget_permanently(item=item, actor=Actor.USER, changed_by=where.actor)
    else:
        item = memory_forget(item=item, actor=Actor.USER, changed_by=where.actor)
    return _out(item, where)


@router.post(
    "/{int:memory_id}/unforget",
    response={200: MemoryOut, **ERRORS},
    url_name="memory-unforget",
    summary="Undo a forget",
)
def memory_unforget_view(request: HttpRequest, memory_id: int, space: SpaceName = "personal"):
    """Undo a forget (not one done permanently)."""
    where = write_space(request, space)
    item = _item(where, memory_id)
    try:
        item = memory_unforget(item=item, actor=Actor.USER, changed_by=where.actor)
    except ValueError as error:
        raise _refused(error) from None
    return _out(item, where)


@router.get(
    "/{int:memory_id}/history",
    response={200: list[RevisionOut], **ERRORS},
    url_name="memory-history",
    summary="A memory's history",
)
def memory_history(request: HttpRequest, memory_id: int, space: SpaceName = "personal"):
    """Every change, newest first."""
    where = read_space(request, space)
    item = _item(where, memory_id)
    return [
        RevisionOut.of(revision, redacted=item.is_redacted)
        for revision in selectors.memory_revisions(item=item)
    ]


@router.post(
    "/{int:memory_id}/propose-edit",
    response={201: MemoryOut, **ERRORS},
    url_name="memory-propose-edit",
    summary="Propose an edit to a team memory",
)
def memory_propose_edit(request: HttpRequest, memory_id: int, body: MemoryProposeEdit):
    """A team member proposes a new text for a team memory (space=team only); an admin
    reviews it in the team's inbox."""
    where = space_for(scoped(request, WRITE), "team")
    item = _item(where, memory_id)
    if item.is_forgotten or item.status != Status.ACTIVE:
        raise ApiProblem(409, "not_active", "Edits can be proposed to active memories only.")
    try:
        proposed = memory_edit_propose(actor=where.actor, item=item, text=body.text)
    except ValueError as error:
        raise _refused(error) from None
    return Reply(201, _out(proposed, where))


@router.post(
    "/{int:memory_id}/propose-to-team",
    response={201: MemoryOut, **ERRORS},
    url_name="memory-propose",
    summary="Propose one of your memories to the team",
)
def memory_propose(request: HttpRequest, memory_id: int):
    """Propose a copy of one of your own active memories to the token's team; an admin
    reviews it there."""
    principal = scoped(request, WRITE)
    team_space = space_for(principal, "team")
    own = space_for(principal, "personal")
    item = selectors.memory_get_for_owner(owner=own.owner, pk=memory_id)
    try:
        proposed = memory_promote(actor=principal.user, team_owner=team_space.owner, item=item)
    except ValueError as error:
        raise _refused(error) from None
    return Reply(201, _out(proposed, team_space))
