"""Chat pages: thin adapters over selectors and services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, retarget

from assistant import selectors
from assistant.forms import MessageForm
from assistant.profiles import allowed_profiles, default_profile, profile_choices
from assistant.services import conversations as services
from assistant.teams.selectors import active_team_for
from assistant.usage.limits import LimitExceeded, conversation_admit, request_release
from memory.services.preferences import memory_is_active


def _page_context(request: HttpRequest, conversation=None, form=None) -> dict:
    # New chats start in the active team; the picker follows the conversation's own team.
    team = active_team_for(request)
    return {
        "conversations": selectors.conversation_list(user=request.user),
        "conversation": conversation,
        "messages_list": selectors.conversation_messages(conversation=conversation)
        if conversation
        else [],
        "form": form or MessageForm(),
        "profiles": profile_choices(allowed_profiles(team)),
        "default_profile": default_profile(team),
        "picker_profiles": profile_choices(allowed_profiles(conversation.team))
        if conversation is not None and conversation.team_id
        else profile_choices(),
        "max_chars": settings.MAX_MESSAGE_CHARS,
        "memory_paused": not memory_is_active(owner=request.user),
    }


def _over_limit(request: HttpRequest, error: LimitExceeded, form=None) -> HttpResponse:
    """429 saying which limit and when it resets; nothing was saved. htmx requests get the
    sentence as text (chat.js shows it where the composer shows its errors, and the text
    stays in the composer); a plain form post gets the composer's error list."""
    if request.htmx or form is None:
        response = HttpResponse(error.message, status=429, content_type="text/plain")
    else:
        form.add_error("text", error.message)
        response = render(
            request, "assistant/chat.html#composer-errors", {"form": form}, status=429
        )
    response["Retry-After"] = str(error.retry_after)
    return response


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "assistant/chat.html", _page_context(request))


@login_required
@require_POST
def conversation_new(request: HttpRequest) -> HttpResponse:
    try:
        conversation = services.conversation_create(
            owner=request.user,
            profile=request.POST.get("profile"),
            incognito=request.POST.get("incognito") == "on",
            team=active_team_for(request),
        )
    except ValidationError as error:  # a profile the active team does not allow
        context = _page_context(request) | {"profile_error": error.messages[0]}
        return render(request, "assistant/chat.html", context, status=400)
    return redirect("chat:conversation", conversation_id=conversation.pk)


@login_required
@require_GET
def conversation_detail(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(
        user=request.user, conversation_id=conversation_id
    )
    return render(request, "assistant/chat.html", _page_context(request, conversation))


@login_required
@require_POST
def conversation_profile(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(
        user=request.user, conversation_id=conversation_id
    )
    context = {}
    try:
        services.conversation_update(conversation=conversation, profile=request.POST.get("profile"))
    except ValidationError as error:  # a profile this conversation's team does not allow
        context["profile_error"] = error.messages[0]
    return render(
        request,
        "assistant/chat.html#profile-picker",
        _page_context(request, conversation) | context,
    )


@login_required
@require_POST
def conversation_delete(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(
        user=request.user, conversation_id=conversation_id
    )
    services.conversation_delete(conversation=conversation, changed_by=request.user)
    if request.htmx:
        return HttpResponseClientRedirect("/")
    return redirect("chat:home")


@login_required
@require_POST
def message_send(request: HttpRequest, conversation_id: int) -> HttpResponse:
    conversation = selectors.conversation_get_for_user(
        user=request.user, conversation_id=conversation_id
    )
    form = MessageForm(request.POST)
    if form.is_valid():
        try:  # counted before anything is saved: over a limit, nothing is
            counted = conversation_admit(conversation=conversation)
        except LimitExceeded as error:
            return _over_limit(request, error, form)
        try:
            user_message, answer = services.message_send(
                conversation=conversation, text=form.cleaned_data["text"]
            )
        except ValidationError as error:  # an answer is still open, or too many are
            request_release(counted)  # no answer started: not counted
            form.add_error("text", error)
    if not form.is_valid():
        # The text stays in the composer: nothing was saved, nothing is lost.
        response = render(
            request, "assistant/chat.html#composer-errors", {"form": form}, status=200
        )
        return retarget(response, "#composer-errors") if request.htmx else response
    if not request.htmx:
        return redirect("chat:conversation", conversation_id=conversation.pk)
    response = render(
        request,
        "assistant/chat.html#new-turn",
        {"conversation": conversation, "turn": [user_message, answer]},
    )
    response["HX-Trigger"] = "message-sent"
    return response


@login_required
@require_POST
def message_stop(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    message = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    services.message_request_stop(message=message)
    return HttpResponse(status=204)


@login_required
@require_POST
def message_regenerate(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    try:
        counted = conversation_admit(conversation=answer.conversation)
    except LimitExceeded as error:
        return _over_limit(request, error)
    try:
        new_answer = services.message_regenerate(answer=answer)
    except ValidationError as error:
        request_release(counted)
        return HttpResponse(error.messages[0], status=409)  # chat.js shows the reason
    return render(
        request,
        "assistant/chat.html#message",
        {"conversation": answer.conversation, "message": new_answer},
    )


@login_required
@require_POST
def message_continue(request: HttpRequest, conversation_id: int, message_id: int) -> HttpResponse:
    """A new answer after one cut off at the length limit, carrying on where it stopped."""
    answer = selectors.message_get_for_user(
        user=request.user, conversation_id=conversation_id, message_id=message_id
    )
    try:
        counted = conversation_admit(conversation=answer.conversation)
    except LimitExceeded as error:
        return _over_limit(request, error)
    try:
        new_answer = services.message_continue(answer=answer)
    except ValidationError as error:
        request_release(counted)
        return HttpResponse(error.messages[0], status=409)
    return render(
        request,
        "assistant/chat.html#message",
        {"conversation": answer.conversation, "message": new_answer},
    )
