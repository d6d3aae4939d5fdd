"""Recording model usage (keyword-only, <noun>_<verb>)."""

from __future__ import annotations

from assistant.usage.limits import tokens_add
from assistant.usage.models import UsageRecord


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
