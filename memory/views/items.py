"""Actions on one memory: edit, pin, "this is wrong", forget (with undo), history, restore."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from memory import selectors
from memory.forms import MemoryTextForm
from memory.models import Actor, Status
from memory.services import (
    memory_forget,
    memory_forget_permanently,
    memory_pin,
    memory_revision_restore,
    memory_unforget,
    memory_update,
)
from memory.services.review import memory_mark_wrong, memory_reactivate
from memory.views.common import (
    INBOX_CHANGED,
    announce,
    item_context,
    redirect_back,
    render_item,
)


def _get(request: HttpRequest, pk: int):
    return selectors.memory_get_for_user(user=request.user, pk=pk)


@login_required
@require_GET
def item(request: HttpRequest, pk: int) -> HttpResponse:
    """The card alone (what "Cancel" in the edit form swaps back in)."""
    return render_item(request, _get(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    if memory.is_forgotten:
        return render_item(request, memory, error="Forgotten memories cannot be edited.")
    if request.method == "GET":
        form = MemoryTextForm(initial={"text": memory.text})
        return render(request, "memory/page.html#edit", item_context(request, memory, form=form))
    form = MemoryTextForm(request.POST)
    if not form.is_valid():
        return render(request, "memory/page.html#edit", item_context(request, memory, form=form))
    memory = memory_update(
        item=memory,
        text=form.cleaned_data["text"],
        actor=Actor.USER,
        changed_by=request.user,
        reason="edited on the memory page",
    )
    return render_item(request, memory)


@login_required
@require_POST
def pin(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    if memory.is_forgotten:
        return render_item(request, memory)
    memory = memory_pin(
        item=memory,
        actor=Actor.USER,
        pinned=request.POST.get("pinned") != "false",
        changed_by=request.user,
    )
    return render_item(request, memory)


@login_required
@require_POST
def wrong(request: HttpRequest, pk: int) -> HttpResponse:
    """ "This is wrong": archived at once, so the assistant stops using it."""
    memory = _get(request, pk)
    try:
        memory = memory_mark_wrong(item=memory, changed_by=request.user)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory, note="Marked wrong. The assistant will not use it.")


@login_required
@require_POST
def reactivate(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    try:
        memory = memory_reactivate(item=memory, changed_by=request.user)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory)


@login_required
@require_POST
def forget(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    was_proposed = memory.status == Status.PROPOSED
    memory = memory_forget(item=memory, actor=Actor.USER, changed_by=request.user)
    response = render_item(request, memory)
    return announce(response, INBOX_CHANGED) if request.htmx and was_proposed else response


@login_required
@require_POST
def unforget(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    try:
        memory = memory_unforget(item=memory, actor=Actor.USER, changed_by=request.user)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory)


@login_required
@require_POST
def forget_permanently(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    memory_forget_permanently(item=memory, actor=Actor.USER, changed_by=request.user)
    return render_item(request, memory)


@login_required
@require_GET
def history(request: HttpRequest, pk: int) -> HttpResponse:
    memory = _get(request, pk)
    if not request.htmx:
        return redirect_back(request, memory)
    return render(
        request,
        "memory/page.html#history",
        {"item": memory, "revisions": selectors.memory_revisions(item=memory)},
    )


@login_required
@require_POST
def restore(request: HttpRequest, pk: int, revision_pk: int) -> HttpResponse:
    revision = selectors.memory_revision_get_for_user(
        user=request.user, pk=pk, revision_pk=revision_pk
    )
    memory = revision.item
    if memory.is_forgotten and not memory.is_redacted:
        return render_item(
            request, memory, with_history=True, error="Undo the forget before restoring."
        )
    try:
        memory = memory_revision_restore(
            revision=revision, actor=Actor.USER, changed_by=request.user
        )
    except ValueError as error:
        return render_item(request, memory, with_history=True, error=str(error))
    return render_item(request, memory, with_history=True, note="Restored that version.")
