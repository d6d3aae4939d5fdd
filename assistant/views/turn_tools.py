"""Per-message tools: 'Remember this' and the context inspector."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from assistant import selectors
from assistant.services.remember import message_remember


@login_required
@require_POST
def message_remember_view(request: HttpRequest, conversation_id: int, message_id: int):
    message = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    try:
        item = message_remember(message=message, user=request.user)
    except ValidationError as error:
        return render(
            request, "assistant/turn_tools.html#remember-result", {"error": error.messages[0]}
        )
    return render(request, "assistant/turn_tools.html#remember-result", {"item": item})


@login_required
@require_GET
def message_context_view(
    request: HttpRequest, conversation_id: int, message_id: int
) -> HttpResponse:
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    context = {
        "answer": answer,
        "context_items": selectors.answer_context_items(answer=answer),
        "total_tokens": sum(part.get("tokens", 0) for part in answer.prompt_parts),
    }
    return render(request, "assistant/turn_tools.html#inspector", context)
