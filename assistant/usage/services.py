"""Recording model usage (keyword-only, <noun>_<verb>)."""

from __future__ import annotations

from collections.abc import Iterable

from assistant.usage.limits import tokens_add
from assistant.usage.models import UsageRecord
from inference import Usage


def usage_record(
    *,
    user,
    kind: str,
    model: str = "",
    profile: str = "",
    prompt_tokens: int | None = None,
    completion_tokens: int | None = None,
    team=None,
    message=None,
    api_token=None,
) -> UsageRecord:
    """One model call's usage, saved and counted against today's token limits. Calls
    whose server reported no usage are recorded with 0 tokens (never estimated)."""
    record = UsageRecord.objects.create(
        user=user,
        team=team,
        kind=UsageRecord.Kind(kind),
        model=model[:200],
        profile=profile[:32],
        prompt_tokens=prompt_tokens or 0,
        completion_tokens=completion_tokens or 0,
        message=message,
        api_token=api_token,
    )
    tokens_add(user=user, team=team, tokens=record.prompt_tokens + record.completion_tokens)
    return record


def usage_record_calls(
    *, user, kind: str, calls: Iterable[Usage], model: str = "", profile: str = "", team=None
) -> list[UsageRecord]:
    """One record per model call of a piece of background work (a summary, an
    extraction with its retry, each reconciliation judgement), with the tokens the
    server reported for it."""
    return [
        usage_record(
            user=user,
            team=team,
            kind=kind,
            model=model,
            profile=profile,
            prompt_tokens=call.prompt_tokens,
            completion_tokens=call.completion_tokens,
        )
        for call in calls
    ]
