"""Proposing to a team's memory (thin views): a personal memory ("Propose to team" on its
card) and a passage of a chat message (a small form under the answer).

Both POST only. A memory or message that is not the user's own is 404, and so is
proposing while in no team (a former member's stored active team is not trusted). The
proposal waits in the team's review inbox for an admin (memory/services/proposals.py);
the result or the error is shown where the button was (htmx), or as a message after a
redirect back (no JavaScript). A refused passage keeps the text that was typed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from assistant.selectors import message_get_for_user
from assistant.teams.proposals import passage_team_for
from assistant.teams.selectors import active_team_for
from memory.models import MemoryItem
from memory.services.proposals import ProposalError, memory_passage_propose, memory_promote
from memory.services.validation import MemoryFieldError

PROPOSED = "Proposed to {team}: an admin will review it."


def _signed_in(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # login_required
    return request.user


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = fallback
    return redirect(target)


def _answer(request: HttpRequest, template: str, context: dict, fallback: str) -> HttpResponse:
    """The partial for htmx; otherwise a message and a redirect back."""
    if getattr(request, "htmx", False):
        return render(request, template, context)
    if context.get("error"):
        messages.error(request, context["error"])
    else:
        messages.success(request, context["note"])
    return _back(request, fallback)


@login_required
@require_POST
def memory_propose(request: HttpRequest, item_id: int) -> HttpResponse:
    team = active_team_for(request)
    if team is None:
        raise Http404("You are not working in a team.")
    item = get_object_or_404(MemoryItem.objects.owned_by(request.user).visible(), pk=item_id)
    context: dict = {"item": item, "team": team}
    try:
        memory_promote(actor=_signed_in(request), team_owner=team.account, item=item)
        context["note"] = PROPOSED.format(team=team.name)
    except PermissionDenied:  # owned_by above makes this unreachable; kept as a 404
        raise Http404("No such memory.") from None
    except ProposalError as error:
        context["error"] = str(error)
    fallback = reverse("memory:detail", args=[item.pk])
    return _answer(request, "assistant/teams/_propose_memory_result.html", context, fallback)


@login_required
@require_POST
def passage_propose(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    message = message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    team = passage_team_for(request, message.conversation)
    if team is None:
        raise Http404("This chat has no team to propose to.")
    quote = request.POST.get("quote", "")
    context: dict = {"message": message, "conversation": message.conversation, "team": team}
    try:
        memory_passage_propose(
            actor=_signed_in(request), team_owner=team.account, message=message, quote=quote
        )
        context["note"] = PROPOSED.format(team=team.name)
    except (ProposalError, MemoryFieldError) as error:
        context["error"] = str(error)
        context["quote"] = quote  # nothing typed is lost
    fallback = reverse("chat:conversation", args=[conversation_id]) + f"#msg-{message.pk}"
    return _answer(request, "assistant/teams/_propose_passage.html", context, fallback)
