"""A passage an answer cited whose file is gone: the chip opens what the answer saw."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from assistant import selectors
from assistant.models import ContextItem
from assistant.services.document_context import cited_passage


@login_required
@require_GET
def cited_passage_view(
    request: HttpRequest, conversation_id: int, message_id: int, item_id: int
) -> HttpResponse:
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    item = get_object_or_404(
        answer.context_items.select_related("chunk__document"),
        pk=item_id,
        source=ContextItem.Source.DOCUMENT,
    )
    if item.chunk_id is not None:  # still in the user's files: the live preview
        return redirect("connectors:passage", item.chunk_id)
    item.answer = answer
    return render(request, "connectors/passage.html", {"cited": cited_passage(item)})
