"""Where a chat turn (browser or API) meets usage: the sampling an API client asked for,
and the usage record of a finished answer."""

from __future__ import annotations

import dataclasses

from assistant.models import Conversation, Message
from assistant.usage.models import UsageRecord
from assistant.usage.services import usage_record
from inference import BackendConfig


def options_apply(backend: BackendConfig, options: dict) -> BackendConfig:
    """The profile's backend with an API client's sampling: `max_tokens` only lowers the
    profile's own limit, `temperature` replaces the profile's."""
    changes: dict = {}
    max_tokens = options.get("max_tokens")
    if isinstance(max_tokens, int) and 0 < max_tokens < backend.max_tokens:
        changes["max_tokens"] = max_tokens
    temperature = options.get("temperature")
    if isinstance(temperature, int | float) and not isinstance(temperature, bool):
        changes["temperature"] = float(temperature)
    return dataclasses.replace(backend, **changes) if changes else backend


def answer_usage_record(*, message_id: int) -> UsageRecord | None:
    """The usage of the model call that produced this answer (it has just closed)."""
    answer = (
        Message.objects.select_related("conversation__owner", "conversation__team")
        .filter(pk=message_id)
        .first()
    )
    if answer is None:
        return None
    conversation = answer.conversation
    is_api = conversation.channel == Conversation.Channel.API
    return usage_record(
        user=conversation.owner,
        team=conversation.team,
        kind=UsageRecord.Kind.API if is_api else UsageRecord.Kind.CHAT,
        model=answer.model,
        profile=answer.profile or conversation.profile,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        message=answer,
        api_token=conversation.api_token if conversation.api_token_id else None,
    )
