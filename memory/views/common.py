"""Helpers shared by the memory views: rendering one item and telling htmx what changed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django_htmx.http import trigger_client_event
from django_htmx.middleware import HtmxDetails

from memory import selectors
from memory.models import MemoryItem


class HtmxHttpRequest(HttpRequest):
    """A request that went through django-htmx's middleware (for type checkers)."""

    htmx: HtmxDetails


# Events the page listens for to refresh a section (sent in the HX-Trigger header).
LIST_CHANGED = "memory-list-changed"
INBOX_CHANGED = "memory-inbox-changed"


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
    return render(request, "memory/page.html#item", item_context(request, item, **extra))


def redirect_back(request: HttpRequest, item: MemoryItem | None = None) -> HttpResponse:
    """Without htmx (no JavaScript), a POST returns to the page it came from."""
    if item is not None and view_of(request) == "detail":
        return redirect("memory:detail", pk=item.pk)
    return redirect("memory:index")


def announce(response: HttpResponse, *events: str) -> HttpResponse:
    for event in events:
        trigger_client_event(response, event)
    return response
