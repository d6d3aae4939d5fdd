"""The OpenAI-compatible endpoint: POST /v1/chat/completions and GET /v1/models.

Thin adapters: authenticate the token (scope `chat`), check the body before anything is
saved, count the request against the limits, start the turn through the chat's services
(assistant/api/openai_turn.py), then relay `answer_stream` as OpenAI chunks or one
completion. Every error has the API's one shape (assistant.api.auth.api_error).

Memory: `X-Memory: off` or `"incognito": true` makes an incognito conversation, as the
chat's incognito switch does: memory is neither read nor written (no summaries, no
extraction); calendar and documents are still read, as in an incognito browser chat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass

from django.core.exceptions import RequestDataTooBig, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from assistant.api.auth import (
    api_error,
    limit_error_response,
    principal_for,
    token_error_response,
)
from assistant.api.models import ApiToken
from assistant.api.openai_chat import (
    BadRequest,
    ChatRequest,
    Completion,
    body_size_check,
    chat_request_parse,
    missing_tail,
    model_list,
    reasoning_delta,
    sse_data,
    usage_of,
)
from assistant.api.openai_turn import api_turn_start
from assistant.api.tokens import TokenError
from assistant.db import db_async
from assistant.models import Message
from assistant.services.turn import answer_stream
from assistant.usage.limits import LimitExceeded, request_admit

PING = b": ping\n\n"
CONVERSATION_HEADER = "X-Conversation-Id"
# Tasks closing answers whose client left while the turn was being saved.
_closers: set[asyncio.Task] = set()


@dataclass(frozen=True)
class Accepted:
    chat: ChatRequest
    conversation_id: int
    answer_id: int


@db_async
def _accept(request: HttpRequest) -> Accepted | JsonResponse:
    """Everything before the model, in one trip to the database thread: the token
    (scope chat), the body's checks, the limits, then the turn saved. An error response
    when any of them refuses; nothing is saved then."""
    try:
        principal = principal_for(request)
        principal.require(ApiToken.Scope.CHAT)
        body = _body(request)
        memory_header = request.headers.get("X-Memory", "")
        chat = chat_request_parse(body=body, team=principal.team, memory_header=memory_header)
        request_admit(user=principal.user, team=principal.team)
        conversation, answer = api_turn_start(principal=principal, request=chat)
    except TokenError as error:
        return token_error_response(error)
    except BadRequest as error:
        return api_error(error.status, error.code, error.message, **error.extra)
    except LimitExceeded as error:
        return limit_error_response(error)
    except ValidationError as error:
        return _refusal(error)
    return Accepted(chat=chat, conversation_id=conversation.pk, answer_id=answer.pk)


@db_async
def _cancel_unstarted(answer_id: int) -> None:
    Message.objects.filter(pk=answer_id, status=Message.Status.PENDING).update(
        status=Message.Status.CANCELLED,
        error="The client disconnected before the answer started.",
        finished_at=timezone.now(),
    )


async def _close_after_start(start: asyncio.Future) -> None:
    with contextlib.suppress(Exception):
        accepted = await start
        if isinstance(accepted, Accepted):
            await _cancel_unstarted(accepted.answer_id)


async def _accept_shielded(request: HttpRequest) -> Accepted | JsonResponse:
    """Shielded: a client leaving meanwhile must not leave a saved answer pending (the
    thread finishes the save; the answer is then closed as cancelled)."""
    start = asyncio.ensure_future(_accept(request))
    try:
        return await asyncio.shield(start)
    except asyncio.CancelledError:
        closer = asyncio.ensure_future(_close_after_start(start))
        _closers.add(closer)
        closer.add_done_callback(_closers.discard)
        raise


@db_async
def _answer(answer_id: int) -> Message:
    return Message.objects.get(pk=answer_id)


def _refusal(error: ValidationError) -> JsonResponse:
    code = getattr(error, "code", None) or "invalid_request"
    message = " ".join(error.messages)
    if code == "busy":
        return api_error(409, "conversation_busy", message)
    if code == "too_many":
        return api_error(429, "too_many_streams", message)
    return api_error(400, code, message, param="messages")


def _failure(answer: Message) -> tuple[int, str, str]:
    """HTTP status, code and message of an answer that did not complete."""
    if answer.status == Message.Status.CANCELLED:
        return 502, "answer_cancelled", answer.error or "The answer was stopped."
    return 502, "backend_error", answer.error or "The model failed to answer."


async def _chunks(completion: Completion, chat: ChatRequest) -> AsyncIterator[bytes]:
    """The answer as chat.completion.chunk events. A finish_reason only when the model
    finished; a failure is an error event (no [DONE]). The client leaving cancels this
    generator: aclosing makes answer_stream save the partial answer as cancelled and
    stop the backend request at once."""
    yield sse_data(completion.chunk({"role": "assistant", "content": ""}))
    sent: list[str] = []
    async with aclosing(answer_stream(message_id=completion.answer_id)) as events:
        async for kind, text in events:
            if kind == "ping":
                yield PING
            elif kind == "reasoning":
                yield sse_data(completion.chunk(reasoning_delta(text)))
            else:
                sent.append(text)
                yield sse_data(completion.chunk({"content": text}))
    answer = await _answer(completion.answer_id)
    if answer.status != Message.Status.COMPLETE:
        _status, code, message = _failure(answer)
        error = {"type": "api_error", "code": code, "message": message}
        yield sse_data({"error": error})
        return
    tail = missing_tail(answer.content, sent)
    if tail:
        yield sse_data(completion.chunk({"content": tail}))
    yield sse_data(completion.chunk({}, finish_reason=answer.finish_reason or "stop"))
    if chat.include_usage:
        usage = usage_of(answer.prompt_tokens, answer.completion_tokens)
        yield sse_data(completion.usage_chunk(usage))
    yield sse_data("[DONE]")


async def _whole(completion: Completion) -> JsonResponse:
    async with aclosing(answer_stream(message_id=completion.answer_id)) as events:
        async for _ in events:
            pass
    answer = await _answer(completion.answer_id)
    if answer.status != Message.Status.COMPLETE:
        return api_error(*_failure(answer))
    return JsonResponse(
        completion.whole(
            content=answer.content,
            reasoning=answer.reasoning,
            finish_reason=answer.finish_reason or "stop",
            usage=usage_of(answer.prompt_tokens, answer.completion_tokens),
        ),
        json_dumps_params={"ensure_ascii": False},
    )


def _body(request: HttpRequest) -> bytes:
    body_size_check(declared=request.headers.get("Content-Length"))
    try:
        body = request.body
    except RequestDataTooBig:  # over Django's DATA_UPLOAD_MAX_MEMORY_SIZE, undeclared
        raise BadRequest(
            "request_too_large", "The request body is too large.", status=413
        ) from None
    body_size_check(declared=None, body=body)
    return body


@csrf_exempt
async def chat_completions(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    if request.method != "POST":
        return api_error(405, "method_not_allowed", "Use POST for chat completions.")
    accepted = await _accept_shielded(request)
    if isinstance(accepted, JsonResponse):
        return accepted
    chat = accepted.chat
    completion = Completion(answer_id=accepted.answer_id, model=chat.profile)
    response: HttpResponse | StreamingHttpResponse
    if chat.stream:
        response = StreamingHttpResponse(
            _chunks(completion, chat), content_type="text/event-stream"
        )
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
    else:
        response = await _whole(completion)
    response[CONVERSATION_HEADER] = str(accepted.conversation_id)
    return response


@db_async
def _models(request: HttpRequest) -> dict:
    principal = principal_for(request)
    principal.require(ApiToken.Scope.CHAT)
    return model_list(principal.team)


async def models(request: HttpRequest) -> HttpResponse:
    if request.method != "GET":
        return api_error(405, "method_not_allowed", "Use GET to list the models.")
    try:
        return JsonResponse(await _models(request))
    except TokenError as error:
        return token_error_response(error)
