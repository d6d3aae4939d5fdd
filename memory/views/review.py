"""The review inbox: accept, edit-then-accept, reject, one at a time or in bulk."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from memory import selectors
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
    announce,
    item_context,
    render_item,
    view_of,
)
from memory.views.page import inbox_context


def _from_inbox(request: HttpRequest) -> bool:
    return view_of(request) == "inbox"


def _reviewed(request: HttpRequest, item, *, message: str = "", error: str = "") -> HttpResponse:
    """The refreshed inbox (from the inbox) or the item's card (from its own page)."""
    if not request.htmx:
        return redirect("memory:index")
    if not _from_inbox(request):
        response = render_item(request, item, error=error, note=message)
    else:
        context = {**inbox_context(user=request.user), "review_message": message}
        response = render(request, "memory/page.html#inbox", {**context, "review_error": error})
        reswap(retarget(response, "#inbox"), "outerHTML")
    if error:
        return response
    return announce(response, LIST_CHANGED, *(() if _from_inbox(request) else (INBOX_CHANGED,)))


@login_required
@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, pk: int) -> HttpResponse:
    """POST accepts; a POST with `text` corrects the text first. GET is the edit form."""
    item = selectors.memory_get_for_user(user=request.user, pk=pk)
    if request.method == "GET":
        form = MemoryTextForm(initial={"text": item.text})
        context = item_context(request, item, form=form, accepting=True)
        return render(request, "memory/page.html#edit", context)
    text = None
    if "text" in request.POST:
        form = MemoryTextForm(request.POST)
        if not form.is_valid():
            context = item_context(request, item, form=form, accepting=True)
            response = render(request, "memory/page.html#edit", context)
            return reswap(retarget(response, f"#memory-{item.pk}"), "outerHTML")
        text = form.cleaned_data["text"]
    try:
        item = memory_accept(item=item, text=text, changed_by=request.user)
    except MemoryReviewError as error:
        return _reviewed(request, item, error=str(error))
    return _reviewed(request, item, message="Accepted. The assistant can use it now.")


@login_required
@require_POST
def reject(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.memory_get_for_user(user=request.user, pk=pk)
    try:
        item = memory_reject(item=item, changed_by=request.user)
    except MemoryReviewError as error:
        return _reviewed(request, item, error=str(error))
    return _reviewed(request, item, message="Rejected. It stays archived, out of use.")


@login_required
@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    form = MemoryBulkReviewForm(request.POST)
    if not form.is_valid():
        if not request.htmx:
            return redirect("memory:index")
        errors = [error for errors in form.errors.values() for error in errors]
        context = {**inbox_context(user=request.user), "review_error": errors[0]}
        return render(request, "memory/page.html#inbox", context)
    accepting = form.cleaned_data["action"] == "accept"
    count = memory_review_bulk(
        owner=request.user, ids=form.cleaned_data["ids"], accept=accepting, changed_by=request.user
    )
    if not request.htmx:
        return redirect("memory:index")
    noun = "memory" if count == 1 else "memories"
    message = f"{'Accepted' if accepting else 'Rejected'} {count} {noun}."
    context = {**inbox_context(user=request.user), "review_message": message}
    return announce(render(request, "memory/page.html#inbox", context), LIST_CHANGED)
