"""Helpers shared by the memory views: the space a page works in, rendering one item,
links and redirects within that space, and telling htmx what changed.

The same views serve personal memory (/memory/) and a team's (/team/memory/, mounted by
the composition root with `request.space` set: memory/spaces.py). Templates link with
`{% url 'memory:...' %}`: Django resolves that within the URL namespace the request came
through, so a team page links to team pages. Redirects here do the same.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from memory import selectors
from memory.models import MemoryItem
from memory.spaces import Space, space_of


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for type checkers)."""

    htmx: HtmxDetails


# Events the page listens for to refresh a section (sent in the HX-Trigger header).
LIST_CHANGED = "memory-list-changed"
INBOX_CHANGED = "memory-inbox-changed"


def managed_space(request: HttpRequest) -> Space:
    """The request's space, if the user may change it (always, in their own memory);
    a team member without the admin role gets 403."""
    space = space_of(request)
    if not space.can_manage:
        raise PermissionDenied("Only the team's admins can change its memory.")
    return space


def item_get(request: HttpRequest, pk: int) -> MemoryItem:
    """The item `pk` of the request's space, or 404."""
    return selectors.memory_get_for_owner(owner=space_of(request).owner, pk=pk)


def space_url(request: HttpRequest, name: str, *args) -> str:
    """A memory URL in the space (URL namespace) the request came through."""
    match = getattr(request, "resolver_match", None)
    current_app = match.namespace if match is not None else None
    return reverse(f"memory:{name}", args=args, current_app=current_app)


def space_redirect(request: HttpRequest, name: str, *args) -> HttpResponse:
    return redirect(space_url(request, name, *args))


def render_space(request: HttpRequest, template: str, context: dict, **kwargs) -> HttpResponse:
    """render() with the space in the context (what the page may offer, and whose it is)."""
    return render(request, template, {"space": space_of(request), **context}, **kwargs)


def view_of(request: HttpRequest) -> str:
    """Where a request comes from: the item's own page ("detail"), the review inbox
    ("inbox") or the list (""). The page's sections send it with hx-vals."""
    view = request.POST.get("view") or request.GET.get("view") or ""
    return view if view in ("detail", "inbox") else ""


def item_context(request: HttpRequest, item: MemoryItem, **extra) -> dict:
    view = view_of(request)
    context = {"item": item, "detail": view == "detail", "in_inbox": view == "inbox"}
    if view == "detail" or extra.pop("with_history", False):
        context["revisions"] = selectors.memory_revisions(item=item)
    context.update(extra)
    return context


def render_item(request: HtmxHttpRequest, item: MemoryItem, **extra) -> HttpResponse:
    """The item's card (or its forgotten notice, or its tombstone) for an htmx swap."""
    if not request.htmx:
        return redirect_back(request, item)
    return render_space(request, "memory/page.html#item", item_context(request, item, **extra))


def redirect_back(request: HttpRequest, item: MemoryItem | None = None) -> HttpResponse:
    """Without htmx (no JavaScript), a POST returns to the page it came from."""
    if item is not None and view_of(request) == "detail":
        return space_redirect(request, "detail", item.pk)
    return space_redirect(request, "index")


def announce(response: HttpResponse, *events: str) -> HttpResponse:
    for event in events:
        trigger_client_event(response, event)
    return response
