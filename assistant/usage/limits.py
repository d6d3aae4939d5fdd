"""Limits per user and per team: requests per minute and tokens per day, counted in
Redis so that every web process (and the API and MCP) shares one count.

Fixed windows: a minute (UTC) for requests, a day (UTC) for tokens. Tokens are added
when a model call reports its usage (`tokens_add`), so a day's limit is checked before
each request against what was used so far. With every limit at 0 (the default), Redis
is never asked.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import redis
from django.conf import settings

from assistant import embedded
from assistant.teams.models import Team

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    requests_per_minute: int  # 0: no limit
    tokens_per_day: int


class LimitExceeded(Exception):
    """A limit is reached. `reset_at` is when it lifts; `retry_after` in whole seconds."""

    def __init__(self, *, who: str, kind: str, limit: int, reset_at: datetime):
        self.who = who  # "user" or "team"
        self.kind = kind  # "requests_per_minute" or "tokens_per_day"
        self.limit = limit
        self.reset_at = reset_at
        self.retry_after = max(1, math.ceil((reset_at - datetime.now(UTC)).total_seconds()))
        whose = "your" if who == "user" else "your team's"
        what = (
            f"{limit:,} request{'' if limit == 1 else 's'} a minute"
            if kind == "requests_per_minute"
            else f"{limit:,} token{'' if limit == 1 else 's'} a day"
        )
        super().__init__(
            f"You have reached {whose} limit of {what}. It resets at "
            f"{reset_at:%H:%M:%S} UTC (in {self.retry_after} s)."
        )

    @property
    def message(self) -> str:
        return str(self)


def limits_for_user(user) -> Limits:
    account = getattr(user, "account_settings", None)
    rpm = getattr(account, "limit_requests_per_minute", None)
    tokens = getattr(account, "limit_tokens_per_day", None)
    return Limits(
        requests_per_minute=settings.LIMIT_USER_REQUESTS_PER_MINUTE if rpm is None else rpm,
        tokens_per_day=settings.LIMIT_USER_TOKENS_PER_DAY if tokens is None else tokens,
    )


def limits_for_team(team) -> Limits:
    rpm, tokens = team.limit_requests_per_minute, team.limit_tokens_per_day
    return Limits(
        requests_per_minute=settings.LIMIT_TEAM_REQUESTS_PER_MINUTE if rpm is None else rpm,
        tokens_per_day=settings.LIMIT_TEAM_TOKENS_PER_DAY if tokens is None else tokens,
    )


def _redis_url() -> str:
    url = settings.REDIS_URL or embedded.redis_url(settings.DATA_DIR)
    # Celery's unix-socket scheme; redis-py spells it unix://.
    return url.replace("redis+socket://", "unix://", 1)


@cache
def _client_for(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def _client() -> redis.Redis:
    return _client_for(_redis_url())


def _minute_window(now: float) -> tuple[str, datetime]:
    start = int(now // 60) * 60
    return str(start), datetime.fromtimestamp(start + 60, UTC)


def _day_window(now: float) -> tuple[str, datetime]:
    day = datetime.fromtimestamp(now, UTC).date()
    reset = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    return day.isoformat(), reset


def _subjects(user, team) -> list[tuple[str, int, Limits]]:
    subjects = [("user", user.pk, limits_for_user(user))]
    if team is not None:
        subjects.append(("team", team.pk, limits_for_team(team)))
    return subjects


def request_admit(*, user, team=None) -> tuple[str, ...]:
    """Count one request for the user (and the team it is made in); LimitExceeded when
    a requests-per-minute limit is passed or today's tokens are used up. A request
    refused is not counted against the minute. Redis unreachable: logged, and the
    request goes ahead (limits protect capacity; they must not take the service down).
    Returns the counters it counted in, for request_release."""
    subjects = [s for s in _subjects(user, team) if s[2].requests_per_minute or s[2].tokens_per_day]
    if not subjects:
        return ()
    now = time.time()
    minute, minute_reset = _minute_window(now)
    day, day_reset = _day_window(now)
    try:
        client = _client()
        for who, pk, limits in subjects:
            if limits.tokens_per_day:
                used = int(client.get(f"limits:tokens:{who}:{pk}:{day}") or 0)
                if used >= limits.tokens_per_day:
                    raise LimitExceeded(
                        who=who,
                        kind="tokens_per_day",
                        limit=limits.tokens_per_day,
                        reset_at=day_reset,
                    )
        counted: list[str] = []
        for who, pk, limits in subjects:
            if not limits.requests_per_minute:
                continue
            key = f"limits:requests:{who}:{pk}:{minute}"
            pipe = client.pipeline()
            pipe.incr(key)
            pipe.expire(key, 120)
            count = pipe.execute()[0]
            counted.append(key)
            if count > limits.requests_per_minute:
                for done in counted:  # refused: not counted anywhere
                    client.decr(done)
                raise LimitExceeded(
                    who=who,
                    kind="requests_per_minute",
                    limit=limits.requests_per_minute,
                    reset_at=minute_reset,
                )
        return tuple(counted)
    except redis.RedisError:
        logger.warning("Limits not checked: Redis is unreachable", exc_info=True)
        return ()


def request_release(counted: tuple[str, ...]) -> None:
    """Take back a request admitted but then not made (an answer was still being written,
    say): it no longer counts against its minute."""
    if not counted:
        return
    try:
        pipe = _client().pipeline()
        for key in counted:
            pipe.decr(key)
        pipe.execute()
    except redis.RedisError:
        logger.warning("A request not made stays counted: Redis is unreachable", exc_info=True)


def tokens_add(*, user, team=None, tokens: int) -> None:
    """Count tokens a model call used against today's limits (only where one is set)."""
    if tokens <= 0:
        return
    subjects = [s for s in _subjects(user, team) if s[2].tokens_per_day]
    if not subjects:
        return
    day, _ = _day_window(time.time())
    try:
        pipe = _client().pipeline()
        for who, pk, _limits in subjects:
            key = f"limits:tokens:{who}:{pk}:{day}"
            pipe.incrby(key, tokens)
            pipe.expire(key, 2 * 86400)
        pipe.execute()
    except redis.RedisError:
        logger.warning("Token usage not counted for limits: Redis is unreachable", exc_info=True)


def conversation_limit_team(*, conversation):
    """The team whose limits a turn of this conversation counts against: the team it was
    started in, while its owner is still a member (None otherwise)."""
    if conversation.team_id is None:
        return None
    return Team.objects.filter(
        pk=conversation.team_id, memberships__user_id=conversation.owner_id
    ).first()


def conversation_admit(*, conversation) -> tuple[str, ...]:
    """request_admit for a new answer in `conversation` (its owner, and its team while the
    owner is a member); LimitExceeded when over a limit."""
    team = conversation_limit_team(conversation=conversation)
    return request_admit(user=conversation.owner, team=team)
