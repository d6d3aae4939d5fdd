"""What an answer's chips open through the conversation: a passage whose file is gone
(what the answer saw), and a team's passage, event or memory.

A team's passage or event (its row's signals say "team") opens only while the answer's
owner is still a member of the team the conversation was started in
(conversation_shared_owner_ids checks now): a former member gets 404, as anyone else.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET

from assistant import selectors
from assistant.models import ContextItem, Message
from assistant.services.document_context import TEAM, cited_passage
from assistant.teams.models import Team
from assistant.teams.selectors import conversation_shared_owner_ids
from connectors.documents.passages import passage_get_for_user
from connectors.views.events import event_page


def _item(request: HttpRequest, conversation_id: int, message_id: int, item_id: int, source: str):
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    related = {
        ContextItem.Source.DOCUMENT: "chunk__document",
        ContextItem.Source.EVENT: "event__source",
    }.get(source, "memory")
    item = get_object_or_404(
        answer.context_items.select_related(related), pk=item_id, source=source
    )
    return answer, item


def _shared_or_404(answer: Message, owner_id: int | None) -> None:
    """A team's row: only while the conversation's owner is a member of its team."""
    if owner_id is None or owner_id not in conversation_shared_owner_ids(answer.conversation):
        raise Http404("No such passage.")


@login_required
@require_GET
def cited_passage_view(
    request: HttpRequest, conversation_id: int, message_id: int, item_id: int
) -> HttpResponse:
    answer, item = _item(request, conversation_id, message_id, item_id, ContextItem.Source.DOCUMENT)
    chunk = item.chunk
    if chunk is not None and chunk.owner_id == request.user.pk:
        return redirect("connectors:passage", chunk.pk)  # the user's own files: live preview
    if chunk is not None:  # a team's passage: live, while the user is a member
        _shared_or_404(answer, chunk.owner_id)
        passage = passage_get_for_user(user=chunk.owner_id, pk=chunk.pk)
        return render(request, "connectors/passage.html", {"passage": passage})
    if TEAM in (item.signals or []) and not conversation_shared_owner_ids(answer.conversation):
        raise Http404("No such passage.")  # a team's passage, since removed: members only
    item.answer = answer
    return render(request, "connectors/passage.html", {"cited": cited_passage(item)})


@login_required
@require_GET
def cited_event_view(
    request: HttpRequest, conversation_id: int, message_id: int, item_id: int
) -> HttpResponse:
    """An event an answer used: the user's own opens its page; a team's shows here."""
    answer, item = _item(request, conversation_id, message_id, item_id, ContextItem.Source.EVENT)
    event = item.event
    if event is None:
        raise Http404("This event is gone from its calendar.")
    if event.owner_id == request.user.pk:
        return redirect("connectors:event", event.pk)
    _shared_or_404(answer, event.owner_id)
    return event_page(request, event)


@login_required
@require_GET
def cited_memory_view(
    request: HttpRequest, conversation_id: int, message_id: int, item_id: int
) -> HttpResponse:
    """A team memory an answer used, read-only, for a current member of the conversation's
    team, whichever team they work in now (the team memory pages are the active team's:
    a button switches there). The user's own memory opens its own page."""
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    item = get_object_or_404(
        answer.context_items.select_related("memory", "memory__proposed_by", "memory__approved_by"),
        pk=item_id,
        memory__isnull=False,
    )
    memory = item.memory
    assert memory is not None
    if memory.owner_id == request.user.pk:
        return redirect("memory:detail", memory.pk)
    _shared_or_404(answer, memory.owner_id)
    team = Team.objects.get(account_id=memory.owner_id)
    return render(request, "assistant/cited_memory.html", {"memory": memory, "team": team})
