"""An OpenAI-compatible request becomes a chat turn through the chat's own services.

Clients resend the whole history with every request. A request whose earlier messages
equal the stored history of a recent API conversation of the same user, token, team,
memory mode and instructions continues that conversation; one that repeats a request
whose answer failed (a client's retry after a 5xx) replaces that answer, as the chat's
Retry does; otherwise a new conversation is made, its earlier messages stored as history
rows. Either way the last user message goes in
through `message_send`, and the answer is produced by `answer_stream` like a browser
turn (the same prompt build, memory fence, budget and context records).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Count, Q, Subquery
from django.utils import timezone

from assistant.api.openai_chat import ChatRequest
from assistant.api.tokens import ApiPrincipal
from assistant.models import Conversation, Message
from assistant.services.conversations import (
    conversation_create,
    conversation_update,
    message_regenerate,
    message_send,
)

# How long after its last turn an API conversation can still be continued.
THREAD_WINDOW = timedelta(days=1)
THREAD_CANDIDATES = 5
# How long after a failed answer a client's resend of the same request retries it.
RETRY_WINDOW = timedelta(minutes=10)
RETRYABLE = (Message.Status.ERROR, Message.Status.CANCELLED)
TITLE_CHARS = 60


def _comparable(turns) -> list[tuple[str, str]]:
    """Turns as compared: stripped, and without answers that have no text (the stored
    side leaves those out, as the prompt does)."""
    pairs = [(role, text.strip()) for role, text in turns]
    return [(role, text) for role, text in pairs if text or role != Message.Role.ASSISTANT]


def _stored(conversation: Conversation) -> list[tuple[str, str]]:
    """The history a client would resend."""
    rows = conversation.messages.order_by("created_at", "id").values_list("role", "content")
    return _comparable(rows)


def api_conversation_match(*, principal: ApiPrincipal, request: ChatRequest) -> Conversation | None:
    """The recent API conversation this request continues, if any (a first message
    never continues anything: two chats may well start with the same words)."""
    if not request.history:
        return None
    wanted = _comparable(request.history)
    if not wanted:
        return None
    candidates = (
        Conversation.objects.filter(
            _base_filter(principal, request, timezone.now() - THREAD_WINDOW)
        )
        .annotate(
            turns=Count(
                "messages",
                filter=~Q(messages__role=Message.Role.ASSISTANT, messages__content=""),
            )
        )
        .filter(turns=len(wanted))
        .order_by("-updated_at")[:THREAD_CANDIDATES]
    )
    for conversation in candidates:
        if _stored(conversation) == wanted:
            return conversation
    return None


def _base_filter(principal: ApiPrincipal, request: ChatRequest, since) -> Q:
    return Q(
        owner=principal.user,
        channel=Conversation.Channel.API,
        api_token=principal.token,
        team=principal.team,
        incognito=request.incognito,
        instructions=request.instructions,
        updated_at__gte=since,
    )


def api_retry_match(*, principal: ApiPrincipal, request: ChatRequest) -> Message | None:
    """The failed answer this request retries, if any: a recent API conversation that
    ends with this very user message and an answer that failed or stopped (clients,
    the openai SDK among them, resend a request that got a 5xx). The retry replaces that
    answer instead of starting another conversation."""
    since = timezone.now() - RETRY_WINDOW
    # One query, over the token's few latest conversations only (a retry follows its
    # failure within seconds): the same cost however many chats the token has.
    latest = (
        Conversation.objects.filter(_base_filter(principal, request, since))
        .order_by("-updated_at")
        .values("pk")[:THREAD_CANDIDATES]
    )
    failures = Message.objects.filter(
        conversation__in=Subquery(latest),
        role=Message.Role.ASSISTANT,
        status__in=RETRYABLE,
        created_at__gte=since,
    ).select_related("conversation")
    candidates = [failure.conversation for failure in failures]
    wanted = [*_comparable(request.history), ("user", request.text.strip())]
    for conversation in candidates:
        rows = list(conversation.messages.order_by("created_at", "id"))
        last = rows[-1] if rows else None
        if last is None or last.role != Message.Role.ASSISTANT or last.status not in RETRYABLE:
            continue
        if _comparable((row.role, row.content) for row in rows[:-1]) == wanted:
            last.conversation = conversation
            return last
    return None


def _title(request: ChatRequest) -> str:
    first = next((text for role, text in request.history if role == "user"), request.text)
    line = (first.strip().splitlines() or [""])[0]
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


def _conversation_start(*, principal: ApiPrincipal, request: ChatRequest) -> Conversation:
    conversation = conversation_create(
        owner=principal.user,
        profile=request.profile,
        incognito=request.incognito,
        team=principal.team,
    )
    conversation.channel = Conversation.Channel.API
    conversation.api_token = principal.token
    conversation.instructions = request.instructions
    conversation.title = _title(request)
    conversation.save(update_fields=["channel", "api_token", "instructions", "title"])
    Message.objects.bulk_create(
        Message(
            conversation=conversation,
            role=role,
            content=text,
            status=Message.Status.COMPLETE,
            profile=request.profile if role == Message.Role.ASSISTANT else "",
        )
        for role, text in request.history
    )
    return conversation


@transaction.atomic
def api_turn_start(
    *, principal: ApiPrincipal, request: ChatRequest
) -> tuple[Conversation, Message]:
    """The conversation (continued or new) and the pending answer to stream. Raises the
    ValidationError of `message_send` (busy, too many answers at once, too long), and
    then nothing is saved."""
    failed = api_retry_match(principal=principal, request=request)
    if failed is not None:
        if failed.conversation.profile != request.profile:
            conversation_update(conversation=failed.conversation, profile=request.profile)
        answer = message_regenerate(answer=failed)
        return failed.conversation, _options_save(answer, request)
    conversation = api_conversation_match(principal=principal, request=request)
    if conversation is None:
        conversation = _conversation_start(principal=principal, request=request)
    elif conversation.profile != request.profile:
        conversation_update(conversation=conversation, profile=request.profile)
    _, answer = message_send(conversation=conversation, text=request.text)
    return conversation, _options_save(answer, request)


def _options_save(answer: Message, request: ChatRequest) -> Message:
    if request.options:
        answer.request_options = request.options
        answer.save(update_fields=["request_options"])
    return answer
