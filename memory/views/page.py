"""The memory page, its list and search, the add form, the switches and the detail page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from memory import selectors
from memory.forms import (
    FORGET_ALL_PHRASE,
    MemoryAddForm,
    MemoryFilterForm,
    MemoryForgetAllForm,
    MemoryImportForm,
    MemorySettingsForm,
)
from memory.hooks import background_status
from memory.models import Actor, Source
from memory.services import memory_create
from memory.services.preferences import memory_settings_get, memory_settings_update
from memory.views.common import LIST_CHANGED, announce, item_context

PAGE_SIZE = 20


def results_context(*, user, filters: dict) -> dict:
    """The list section: search hits for a query, else a page of the newest items."""
    query = filters["query"]
    base = {name: filters[name] for name in ("kind", "source", "status")}
    context = {
        "filters": filters,
        "filtered": bool(query or any(base.values())),
        "has_memories": selectors.memory_list(user=user).exists()
        or selectors.memory_proposed(user=user).exists(),
        "page_query": urlencode({"q": query, **base}),
    }
    if query:
        hits = selectors.memory_find(user=user, query=query, **base)
        return {**context, "searching": True, "hits": hits, "count": len(hits)}
    paginator = Paginator(selectors.memory_list(user=user, **base), PAGE_SIZE)
    page = paginator.get_page(filters["page"])
    hits = [selectors.MemoryHit(item=item) for item in page.object_list]
    return {**context, "searching": False, "hits": hits, "page": page, "count": paginator.count}


def inbox_context(*, user) -> dict:
    return {"proposed": list(selectors.memory_proposed(user=user))}


def settings_context(*, user, saved: bool = False) -> dict:
    return {"memory_settings": memory_settings_get(owner=user), "settings_saved": saved}


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    filter_form = MemoryFilterForm(request.GET)
    results = results_context(user=request.user, filters=filter_form.values())
    if request.htmx and request.htmx.target == "memory-results":
        return render(request, "memory/page.html#results", results)
    context = {
        **results,
        **inbox_context(user=request.user),
        **settings_context(user=request.user),
        **background_status(user=request.user),
        "filter_form": filter_form,
        "add_form": MemoryAddForm(),
        "import_form": MemoryImportForm(),
        "import_max_bytes": settings.MEMORY_IMPORT_MAX_BYTES,
        "forget_all_form": MemoryForgetAllForm(),
        "forget_all_phrase": FORGET_ALL_PHRASE,
    }
    return render(request, "memory/page.html", context)


@login_required
@require_GET
def inbox(request: HttpRequest) -> HttpResponse:
    return render(request, "memory/page.html#inbox", inbox_context(user=request.user))


@login_required
@require_POST
def add(request: HttpRequest) -> HttpResponse:
    form = MemoryAddForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return redirect("memory:index")
        return render(request, "memory/page.html#add-form", {"add_form": form})
    item = memory_create(
        owner=request.user,
        text=form.cleaned_data["text"],
        kind=form.cleaned_data["kind"],
        source=Source.STATED,
        actor=Actor.USER,
        changed_by=request.user,
        reason="added on the memory page",
    )
    if not request.htmx:
        return redirect("memory:detail", pk=item.pk)
    fresh = MemoryAddForm(initial={"kind": form.cleaned_data["kind"]})
    response = render(request, "memory/page.html#add-form", {"add_form": fresh, "added": item})
    return announce(response, LIST_CHANGED)


@login_required
@require_POST
def settings_update(request: HttpRequest) -> HttpResponse:
    form = MemorySettingsForm(request.POST)
    form.is_valid()  # two optional booleans: always valid
    memory_settings_update(
        owner=request.user,
        paused=form.cleaned_data["paused"],
        auto_accept_extracted=form.cleaned_data["auto_accept_extracted"],
    )
    if not request.htmx:
        return redirect("memory:index")
    return render(
        request, "memory/page.html#settings", settings_context(user=request.user, saved=True)
    )


@login_required
@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.memory_get_for_user(user=request.user, pk=pk)
    context = item_context(request, item, with_history=True)
    context["detail"] = True
    context.update(settings_context(user=request.user))
    return render(request, "memory/detail.html", context)
