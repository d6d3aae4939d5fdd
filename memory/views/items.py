"""Actions on one memory: edit, pin, "this is wrong", forget (with undo), history, restore,
and, for a team member, proposing an edit of a team memory.

Every item is read in the request's space (its owner first); changes need a space the
user may manage (a team's admins), and name the signed-in user as the one who changed it.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
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
from memory.services.proposals import ProposalError, memory_edit_propose
from memory.services.review import memory_mark_wrong, memory_reactivate
from memory.services.validation import MemoryFieldError
from memory.spaces import space_of
from memory.views.common import (
    INBOX_CHANGED,
    HtmxHttpRequest,
    announce,
    item_context,
    item_get,
    managed_space,
    redirect_back,
    render_item,
    render_space,
)


def _managed(request: HtmxHttpRequest, pk: int):
    """(the item, who acts) for a change; 403 for a team member, 404 for another owner's."""
    space = managed_space(request)
    return item_get(request, pk), space.actor


@login_required
@require_GET
def item(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The card alone (what "Cancel" in the edit form swaps back in)."""
    return render_item(request, item_get(request, pk))


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    if memory.is_forgotten:
        return render_item(request, memory, error="Forgotten memories cannot be edited.")
    if request.method == "GET":
        form = MemoryTextForm(initial={"text": memory.text})
    else:
        form = MemoryTextForm(request.POST)
    if request.method == "GET" or not form.is_valid():
        context = item_context(request, memory, form=form)
        return render_space(request, "memory/page.html#edit", context)
    memory = memory_update(
        item=memory,
        text=form.cleaned_data["text"],
        actor=Actor.USER,
        changed_by=actor,
        reason="edited on the memory page",
    )
    return render_item(request, memory)


@login_required
@require_http_methods(["GET", "POST"])
def propose_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """A team member proposes a new text for a team memory; an admin reviews it in the
    inbox. Only in a team's space (a personal memory is edited directly)."""
    space = space_of(request)
    if not space.is_team or not space.can_propose:
        raise Http404("Edits are proposed to a team's memory only.")
    memory = item_get(request, pk)
    if memory.is_forgotten or memory.status != Status.ACTIVE:
        return render_item(request, memory, error="Edits can be proposed to active memories only.")
    if request.method == "GET":
        form = MemoryTextForm(initial={"text": memory.text})
        context = item_context(request, memory, form=form, proposing=True)
        return render_space(request, "memory/page.html#edit", context)
    form = MemoryTextForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            memory_edit_propose(actor=space.actor, item=memory, text=form.cleaned_data["text"])
        except (ProposalError, MemoryFieldError) as problem:
            error = str(problem)
        else:
            note = "Edit proposed. An admin of the team will review it."
            response = render_item(request, memory, note=note)
            return announce(response, INBOX_CHANGED) if request.htmx else response
    if not request.htmx:
        return redirect_back(request, memory)
    context = item_context(request, memory, form=form, proposing=True, error=error)
    return render_space(request, "memory/page.html#edit", context)


@login_required
@require_POST
def pin(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    if memory.is_forgotten:
        return render_item(request, memory)
    memory = memory_pin(
        item=memory,
        actor=Actor.USER,
        pinned=request.POST.get("pinned") != "false",
        changed_by=actor,
    )
    return render_item(request, memory)


@login_required
@require_POST
def wrong(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """ "This is wrong": archived at once, so the assistant stops using it."""
    memory, actor = _managed(request, pk)
    try:
        memory = memory_mark_wrong(item=memory, changed_by=actor)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory, note="Marked wrong. The assistant will not use it.")


@login_required
@require_POST
def reactivate(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    try:
        memory = memory_reactivate(item=memory, changed_by=actor)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory)


@login_required
@require_POST
def forget(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    was_proposed = memory.status == Status.PROPOSED
    memory = memory_forget(item=memory, actor=Actor.USER, changed_by=actor)
    response = render_item(request, memory)
    return announce(response, INBOX_CHANGED) if request.htmx and was_proposed else response


@login_required
@require_POST
def unforget(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    try:
        memory = memory_unforget(item=memory, actor=Actor.USER, changed_by=actor)
    except ValueError as error:
        return render_item(request, memory, error=str(error))
    return render_item(request, memory)


@login_required
@require_POST
def forget_permanently(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory, actor = _managed(request, pk)
    memory_forget_permanently(item=memory, actor=Actor.USER, changed_by=actor)
    return render_item(request, memory)


@login_required
@require_GET
def history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    memory = item_get(request, pk)
    if not request.htmx:
        return redirect_back(request, memory)
    return render_space(
        request,
        "memory/page.html#history",
        {"item": memory, "revisions": selectors.memory_revisions(item=memory)},
    )


@login_required
@require_POST
def restore(request: HtmxHttpRequest, pk: int, revision_pk: int) -> HttpResponse:
    space = managed_space(request)
    revision = selectors.memory_revision_get_for_owner(
        owner=space.owner, pk=pk, revision_pk=revision_pk
    )
    memory = revision.item
    if memory.is_forgotten and not memory.is_redacted:
        return render_item(
            request, memory, with_history=True, error="Undo the forget before restoring."
        )
    try:
        memory = memory_revision_restore(
            revision=revision, actor=Actor.USER, changed_by=space.actor
        )
    except ValueError as error:
        return render_item(request, memory, with_history=True, error=str(error))
    return render_item(request, memory, with_history=True, note="Restored that version.")
