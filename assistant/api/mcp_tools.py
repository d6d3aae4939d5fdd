"""What the MCP server's tools do, as plain sync functions over a token's principal.

assistant/api/mcp_server.py checks the scope and the limits, then runs these in a thread
(the ORM is sync). Each reads owner-first: the token's user, plus the team's account only
while the principal carries the team (a team-scoped token whose user is still a member,
checked on every request by token_authenticate). Each calls the services and selectors
the pages and the chat use; results are plain data for the client's model.

Writes from MCP go to the review inbox unless the token says otherwise:
- add_memory: with memory:write, a PROPOSED memory (the user's review inbox; in the team
  space, a team proposal for its admins). With memory:write:direct, an active memory, as
  the memory page adds it (in the team space only for the team's admins; a member's
  write is still a proposal).
- forget_memory: needs memory:write:direct (the page's soft forget, undoable there; for a
  team memory, an admin's). The review inbox holds proposed memories, not proposed
  forgets, so with plain memory:write it is refused with a message saying why.
- While the user's memory is paused, nothing is read from or written to it (as in chat);
  forgetting still works.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from django.http import Http404
from django.utils import timezone

from assistant.api.models import ApiToken
from assistant.api.tokens import ApiPrincipal
from assistant.services.account_settings import account_settings_get, account_zone
from assistant.services.calendar_context import event_when
from assistant.services.document_context import relevant
from assistant.teams.models import Membership, Role, role_at_least
from connectors.calendar import query as calendar_query
from connectors.calendar.timewords import NEXT, time_query_parse
from connectors.documents.search import chunks_searchable, document_search
from memory.models import Actor, MemoryItem, Source, Status
from memory.search import memory_search
from memory.selectors import memory_get_for_owner, memory_list, signal_labels
from memory.services import MemoryFieldError, memory_create, memory_forget
from memory.services.preferences import memory_is_active
from memory.services.proposals import ProposalError, memory_text_propose
from memory.tags import memory_tag

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PERSONAL, TEAM, ALL = "personal", "team", "all"
LISTED = (Status.ACTIVE, Status.ARCHIVED, Status.PROPOSED)
CALENDAR_DEFAULT_DAYS = 14
CALENDAR_MAX_DAYS = 366


class ToolProblem(Exception):
    """Why a tool call did nothing; the message is for the client's model and person."""


def _paused_check(principal: ApiPrincipal) -> None:
    if not memory_is_active(owner=principal.user):
        raise ToolProblem(
            "Your memory is paused: nothing is read from it or written to it. "
            "Resume it on the memory page."
        )


def _user(principal: ApiPrincipal) -> User:
    return principal.user


def _team_account(principal: ApiPrincipal):
    if principal.team is None:
        raise ToolProblem(
            "This token does not reach a team (it has no team scope, or you are no longer "
            "a member of its team)."
        )
    return principal.team.account


def _is_team_admin(principal: ApiPrincipal) -> bool:
    """Read now: a role changed a moment ago counts."""
    if principal.team is None:
        return False
    role = (
        Membership.objects.filter(team=principal.team, user=_user(principal))
        .values_list("role", flat=True)
        .first()
    )
    return role is not None and role_at_least(role, Role.ADMIN)


def _space_of(item: MemoryItem, principal: ApiPrincipal) -> str:
    return PERSONAL if item.owner_id == principal.user.pk else TEAM


def memory_data(item: MemoryItem, principal: ApiPrincipal, **extra: Any) -> dict[str, Any]:
    data = {
        "id": item.pk,
        "tag": memory_tag(item.pk),
        "text": item.text,
        "kind": item.kind,
        "status": item.status,
        "pinned": item.pinned,
        "space": _space_of(item, principal),
        "created_at": item.created_at.isoformat(),
    }
    if item.occurred_at:
        data["occurred_at"] = item.occurred_at.isoformat()
    return {**data, **extra}


def search_memories(*, principal: ApiPrincipal, query: str, limit: int) -> dict[str, Any]:
    """The chat's retriever over active memories (the team's too, with a team token)."""
    _paused_check(principal)
    hits = memory_search(
        owner=principal.user,
        query=query,
        limit=limit,
        shared_owner_ids=principal.shared_owner_ids,
    )
    memories = [
        memory_data(
            hit.item,
            principal,
            score=round(float(hit.score), 4),
            signals=signal_labels(hit.signals),
        )
        for hit in hits
    ]
    return {"query": query, "memories": memories}


def _owners(principal: ApiPrincipal, space: str) -> list:
    if space == PERSONAL:
        return [principal.user]
    if space == TEAM:
        return [_team_account(principal)]
    team = [principal.team.account] if principal.team is not None else []
    return [principal.user, *team]


def list_memories(
    *,
    principal: ApiPrincipal,
    kind: str | None,
    status: str | None,
    space: str,
    limit: int,
    offset: int,
) -> dict[str, Any]:
    """Newest first, as the memory page lists them (active and archived unless `status`)."""
    _paused_check(principal)
    queryset = None
    for owner in _owners(principal, space):
        listed = memory_list(owner=owner, kind=kind or "", status=status or "")
        queryset = listed if queryset is None else queryset | listed
    assert queryset is not None
    queryset = queryset.order_by("-created_at", "-id")
    total = queryset.count()
    items = list(queryset[offset : offset + limit])
    next_offset = offset + len(items) if offset + len(items) < total else None
    return {
        "memories": [memory_data(item, principal) for item in items],
        "total": total,
        "offset": offset,
        "next_offset": next_offset,
    }


def _reason(principal: ApiPrincipal, verb: str) -> str:
    return f"{verb} over MCP (token “{principal.token.name}”)"


def add_memory(*, principal: ApiPrincipal, text: str, kind: str, space: str) -> dict[str, Any]:
    _paused_check(principal)
    direct = ApiToken.Scope.MEMORY_WRITE_DIRECT in principal.token.scopes
    user = _user(principal)
    try:
        if space == TEAM:
            account = _team_account(principal)
            if direct and _is_team_admin(principal):
                item = memory_create(
                    owner=account, text=text, kind=kind, source=Source.STATED, actor=Actor.USER,
                    changed_by=user, reason=_reason(principal, "added"),
                )  # fmt: skip
                note = "Added to the team's memory."
            else:
                item = memory_text_propose(actor=user, team_owner=account, text=text, kind=kind)
                note = "Proposed to the team: it waits for an admin's review."
        else:
            status = Status.ACTIVE if direct else Status.PROPOSED
            item = memory_create(
                owner=user, text=text, kind=kind, source=Source.STATED, actor=Actor.USER,
                status=status, changed_by=user,
                reason=_reason(principal, "added" if direct else "proposed"),
            )  # fmt: skip
            note = (
                "Added to your memory."
                if direct
                else "Waiting in your review inbox: it is used once you accept it."
            )
    except (MemoryFieldError, ProposalError) as problem:
        raise ToolProblem(str(problem)) from None
    return {"memory": memory_data(item, principal), "note": note}


def _memory_get(principal: ApiPrincipal, memory_id: int) -> MemoryItem:
    """The memory among the principal's owners (own first), or ToolProblem: one answer
    whether it is someone else's or does not exist."""
    for owner in _owners(principal, ALL):
        try:
            return memory_get_for_owner(owner=owner, pk=memory_id)
        except Http404:
            continue
    raise ToolProblem(f"No memory {memory_tag(memory_id)} was found in your memory.")


def forget_memory(*, principal: ApiPrincipal, memory_id: int) -> dict[str, Any]:
    item = _memory_get(principal, memory_id)
    if ApiToken.Scope.MEMORY_WRITE_DIRECT not in principal.token.scopes:
        raise ToolProblem(
            "Forgetting needs a token with the memory:write:direct scope. With memory:write, "
            "writes only go to the review inbox, which takes new memories, not forgets: "
            "forget it on the memory page instead."
        )
    if _space_of(item, principal) == TEAM and not _is_team_admin(principal):
        raise ToolProblem("Only the team's admins can forget a team memory.")
    item = memory_forget(
        item=item, actor=Actor.USER, changed_by=_user(principal),
        reason=_reason(principal, "forgotten"),
    )  # fmt: skip
    return {
        "forgotten": memory_tag(item.pk),
        "note": "Forgotten: no longer used. It can be brought back on the memory page.",
    }


def search_documents(*, principal: ApiPrincipal, query: str, limit: int) -> dict[str, Any]:
    """Passages of the user's (and the team's) synced files, as the chat finds them: the
    same retriever and the same relevance floor."""
    owner, shared = principal.user, principal.shared_owner_ids
    if not chunks_searchable(owner, shared).exists():
        return {"query": query, "passages": [], "note": "No indexed files to search."}
    hits = document_search(owner=owner, query=query, limit=limit, shared_owner_ids=shared)
    kept = [hit for hit in hits if relevant(hit)]
    passages = []
    for hit in kept:
        chunk = hit.chunk
        passage = {
            "id": chunk.pk,
            "tag": f"d:{chunk.pk}",
            "text": chunk.text,
            "file": chunk.document.path,
            "space": PERSONAL if chunk.owner_id == owner.pk else TEAM,
            "score": round(float(hit.score), 4),
        }
        if chunk.heading:
            passage["heading"] = chunk.heading
        if chunk.page:
            passage["page"] = chunk.page
        if chunk.document.web_url:
            passage["url"] = chunk.document.web_url
        passages.append(passage)
    result: dict[str, Any] = {"query": query, "passages": passages}
    if len(kept) < len(hits):
        result["note"] = f"{len(hits) - len(kept)} passage(s) below the relevance floor left out."
    return result


def _moment(value: str, zone, *, end: bool = False) -> datetime:
    """An ISO date or date-time; a date means its whole day, a naive time the user's zone."""
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            moment = datetime.combine(day + timedelta(days=1 if end else 0), time(), tzinfo=zone)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise ToolProblem(f"{value!r} is not an ISO date (2025-05-01) or date-time.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _window(query: str, start: str | None, end: str | None, zone) -> tuple:
    """(start, end, words, person, label) for the events to read."""
    now = timezone.now().astimezone(zone)
    if start or end:
        since = _moment(start, zone) if start else now
        until = _moment(end, zone, end=True) if end else since + timedelta(CALENDAR_DEFAULT_DAYS)
        return since, until, query, "", "the window asked for"
    parsed = time_query_parse(query, now=now) if query else None
    if parsed is not None:
        # "what's on next week", "when do I meet Sam": the chat's reading of the words.
        until = parsed.end
        since = now if parsed.intent == NEXT else parsed.start
        return since, until, parsed.text, parsed.person, parsed.label
    return now, now + timedelta(CALENDAR_DEFAULT_DAYS), query, "", "the next two weeks"


def search_calendar(
    *, principal: ApiPrincipal, query: str, start: str | None, end: str | None, limit: int
) -> dict[str, Any]:
    """Events of the user's (and the team's) synced calendars in a window, earliest first."""
    zone = account_zone(account_settings_get(user=principal.user))
    since, until, words, person, label = _window(query.strip(), start, end, zone)
    if until <= since:
        raise ToolProblem("The end of the window must come after its start.")
    if until - since > timedelta(CALENDAR_MAX_DAYS):
        raise ToolProblem(f"Ask for at most {CALENDAR_MAX_DAYS} days at a time.")
    events = calendar_query.events_in_window(
        user=principal.user, start=since, end=until, text=words, person=person, limit=limit,
        shared_owner_ids=principal.shared_owner_ids,
    )  # fmt: skip
    found = []
    for event in events:
        data: dict[str, Any] = {
            "id": event.pk,
            "tag": f"e:{event.pk}",
            "title": event.title or "(no title)",
            "when": event_when(event, zone),
            "all_day": event.all_day,
            "start": event.start.astimezone(zone).isoformat(),
            "end": event.end.astimezone(zone).isoformat(),
            "space": PERSONAL if event.owner_id == principal.user.pk else TEAM,
        }
        if event.location:
            data["location"] = event.location
        if event.attendees:
            data["attendees"] = [str(person) for person in event.attendees[:20]]
        if event.status and event.status.upper() != "CONFIRMED":
            data["status"] = event.status.lower()
        found.append(data)
    return {
        "window": {"start": since.isoformat(), "end": until.isoformat(), "label": label},
        "time_zone": zone.key,
        "events": found,
        "note": "" if len(found) < limit else f"Only the first {limit} events are listed.",
    }
