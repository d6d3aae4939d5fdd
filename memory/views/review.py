"""The review inbox: accept, edit-then-accept, reject, one at a time or in bulk."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from memory.forms import MemoryBulkReviewForm, MemoryTextForm
from memory.services.review import (
    MemoryReviewError,
    memory_accept,
    memory_reject,
    memory_review_bulk,
)
from memory.views.common import (
    INBOX_CHANGED,
    LIST_CHANGED,
    HtmxHttpRequest,
    announce,
    item_context,
    item_get,
    managed_space,
    render_item,
    render_space,
    space_redirect,
    view_of,
)
from memory.views.page import inbox_context


def _from_inbox(request: HtmxHttpRequest) -> bool:
    return view_of(request) == "inbox"


def _reviewed(
    request: HtmxHttpRequest, item, *, message: str = "", error: str = ""
) -> HttpResponse:
    """The refreshed inbox (from the inbox) or the item's card (from its own page)."""
    if not request.htmx:
        return space_redirect(request, "index")
    if not _from_inbox(request):
        response = render_item(request, item, error=error, note=message)
    else:
        context = {**inbox_context(owner=item.owner), "review_message": message}
        context["review_error"] = error
        response = render_space(request, "memory/page.html#inbox", context)
        reswap(retarget(response, "#inbox"), "outerHTML")
    if error:
        return response
    return announce(response, LIST_CHANGED, *(() if _from_inbox(request) else (INBOX_CHANGED,)))


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """POST accepts; a POST with `text` corrects the text first. GET is the edit form."""
    space = managed_space(request)
    item = item_get(request, pk)
    if request.method == "GET":
        form = MemoryTextForm(initial={"text": item.text})
        context = item_context(request, item, form=form, accepting=True)
        return render_space(request, "memory/page.html#edit", context)
    text = None
    if "text" in request.POST:
        form = MemoryTextForm(request.POST)
        if not form.is_valid():
            context = item_context(request, item, form=form, accepting=True)
            response = render_space(request, "memory/page.html#edit", context)
            return reswap(retarget(response, f"#memory-{item.pk}"), "outerHTML")
        text = form.cleaned_data["text"]
    try:
        item = memory_accept(item=item, text=text, changed_by=space.actor)
    except MemoryReviewError as error:
        return _reviewed(request, item, error=str(error))
    return _reviewed(request, item, message="Accepted. The assistant can use it now.")


@login_required
@require_POST
def reject(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    space = managed_space(request)
    item = item_get(request, pk)
    try:
        item = memory_reject(item=item, changed_by=space.actor)
    except MemoryReviewError as error:
        return _reviewed(request, item, error=str(error))
    return _reviewed(request, item, message="Rejected. It stays archived, out of use.")


@login_required
@require_POST
def bulk(request: HtmxHttpRequest) -> HttpResponse:
    space = managed_space(request)
    form = MemoryBulkReviewForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return space_redirect(request, "index")
        errors = [error for errors in form.errors.values() for error in errors]
        context = {**inbox_context(owner=space.owner), "review_error": errors[0]}
        return render_space(request, "memory/page.html#inbox", context)
    accepting = form.cleaned_data["action"] == "accept"
    count = memory_review_bulk(
        owner=space.owner, ids=form.cleaned_data["ids"], accept=accepting, changed_by=space.actor
    )
    if not request.htmx:
        return space_redirect(request, "index")
    noun = "memory" if count == 1 else "memories"
    message = f"{'Accepted' if accepting else 'Rejected'} {count} {noun}."
    context = {**inbox_context(owner=space.owner), "review_message": message}
    return announce(render_space(request, "memory/page.html#inbox", context), LIST_CHANGED)
