"""The memory page, its list and search, the add form, the switches and the detail page."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
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
from memory.spaces import space_of
from memory.views.common import (
    LIST_CHANGED,
    HtmxHttpRequest,
    announce,
    item_context,
    item_get,
    managed_space,
    render_space,
    space_redirect,
)

PAGE_SIZE = 20


def results_context(*, owner, filters: dict) -> dict:
    """The list section: search hits for a query, else a page of the newest items."""
    query = filters["query"]
    base = {name: filters[name] for name in ("kind", "source", "status")}
    context = {
        "filters": filters,
        "filtered": bool(query or any(base.values())),
        "has_memories": selectors.memory_list(owner=owner).exists()
        or selectors.memory_proposed(owner=owner).exists(),
        "page_query": urlencode({"q": query, **base}),
    }
    if query:
        hits = selectors.memory_find(owner=owner, query=query, **base)
        return {**context, "searching": True, "hits": hits, "count": len(hits)}
    paginator = Paginator(selectors.memory_list(owner=owner, **base), PAGE_SIZE)
    page = paginator.get_page(filters["page"])
    hits = [selectors.MemoryHit(item=item) for item in page.object_list]
    return {**context, "searching": False, "hits": hits, "page": page, "count": paginator.count}


def inbox_context(*, owner) -> dict:
    return {"proposed": list(selectors.memory_proposed(owner=owner))}


def settings_context(*, owner, saved: bool = False) -> dict:
    return {"memory_settings": memory_settings_get(owner=owner), "settings_saved": saved}


@login_required
@require_GET
def index(request: HtmxHttpRequest) -> HttpResponse:
    space = space_of(request)
    filter_form = MemoryFilterForm(request.GET)
    results = results_context(owner=space.owner, filters=filter_form.values())
    if request.htmx and request.htmx.target == "memory-results":
        return render_space(request, "memory/page.html#results", results)
    context = {
        **results,
        **inbox_context(owner=space.owner),
        **settings_context(owner=space.owner),
        # Background runs (summaries, big imports) of the space's owner: on a team's page,
        # the team account's (a big import), shown to its admins and members.
        **background_status(user=space.owner),
        "filter_form": filter_form,
        "add_form": MemoryAddForm(),
        "import_form": MemoryImportForm(),
        "import_max_bytes": settings.MEMORY_IMPORT_MAX_BYTES,
        "forget_all_form": MemoryForgetAllForm(),
        "forget_all_phrase": FORGET_ALL_PHRASE,
    }
    return render_space(request, "memory/page.html", context)


@login_required
@require_GET
def inbox(request: HtmxHttpRequest) -> HttpResponse:
    context = inbox_context(owner=space_of(request).owner)
    return render_space(request, "memory/page.html#inbox", context)


@login_required
@require_POST
def add(request: HtmxHttpRequest) -> HttpResponse:
    space = managed_space(request)
    form = MemoryAddForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return space_redirect(request, "index")
        return render_space(request, "memory/page.html#add-form", {"add_form": form})
    item = memory_create(
        owner=space.owner,
        text=form.cleaned_data["text"],
        kind=form.cleaned_data["kind"],
        source=Source.STATED,
        actor=Actor.USER,
        changed_by=space.actor,
        reason="added on the memory page",
    )
    if not request.htmx:
        return space_redirect(request, "detail", item.pk)
    fresh = MemoryAddForm(initial={"kind": form.cleaned_data["kind"]})
    context = {"add_form": fresh, "added": item}
    response = render_space(request, "memory/page.html#add-form", context)
    return announce(response, LIST_CHANGED)


@login_required
@require_POST
def settings_update(request: HtmxHttpRequest) -> HttpResponse:
    space = managed_space(request)
    form = MemorySettingsForm(request.POST)
    form.is_valid()  # two optional booleans: always valid
    memory_settings_update(
        owner=space.owner,
        paused=form.cleaned_data["paused"],
        # Extraction never writes a team's memory: no auto-accept switch there.
        auto_accept_extracted=None if space.is_team else form.cleaned_data["auto_accept_extracted"],
    )
    if not request.htmx:
        return space_redirect(request, "index")
    context = settings_context(owner=space.owner, saved=True)
    return render_space(request, "memory/page.html#settings", context)


@login_required
@require_GET
def detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    item = item_get(request, pk)
    context = item_context(request, item, with_history=True)
    context["detail"] = True
    context.update(settings_context(owner=space_of(request).owner))
    return render_space(request, "memory/detail.html", context)
