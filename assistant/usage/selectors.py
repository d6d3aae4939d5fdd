"""Reads for the usage pages: tokens per day by model, totals by kind and by member,
estimated costs and the comparison, today's use against the limits.

Days are UTC days, as the tokens-per-day limits count them (assistant/usage/limits.py).
Every query starts from the owner's rows (the user's own records) or the team's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, QuerySet, Sum
from django.db.models.functions import TruncDate

from assistant.usage.limits import Limits, limits_for_team, limits_for_user
from assistant.usage.models import UsageRecord
from assistant.usage.pricing import Comparison, Price, price_for, usage_compare

DAYS = 30


@dataclass(frozen=True)
class ModelTotal:
    model: str
    prompt_tokens: int
    completion_tokens: int
    calls: int
    price: Price | None
    cost: Decimal | None  # None: no price set

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Total:
    """A row of totals (a kind of call, or a team member)."""

    label: str
    prompt_tokens: int
    completion_tokens: int
    calls: int
    cost: Decimal = Decimal(0)  # priced models only

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class Day:
    day: date
    by_model: dict[str, int]  # model -> prompt + completion tokens
    total: int


@dataclass
class UsageReport:
    since: date
    until: date
    days: list[Day] = field(default_factory=list)  # every day of the window, oldest first
    models: list[ModelTotal] = field(default_factory=list)  # most tokens first
    kinds: list[Total] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0
    cost: Decimal = Decimal(0)  # of the models with a price
    unpriced: list[str] = field(default_factory=list)  # models used without a price
    comparison: list[Comparison] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def empty(self) -> bool:
        return self.calls == 0


@dataclass(frozen=True)
class Today:
    """Today's tokens (UTC) against the tokens-per-day limit, and the limits in force."""

    limits: Limits
    tokens: int
    resets_at: datetime

    @property
    def tokens_left(self) -> int | None:
        if not self.limits.tokens_per_day:
            return None
        return max(0, self.limits.tokens_per_day - self.tokens)


def _window(now: datetime | None, days: int) -> tuple[date, date, datetime]:
    now = now or datetime.now(UTC)
    until = now.astimezone(UTC).date()
    since = until - timedelta(days=days - 1)
    start = datetime(since.year, since.month, since.day, tzinfo=UTC)
    return since, until, start


def _cost(model: str, prompt: int, completion: int) -> tuple[Price | None, Decimal | None]:
    price = price_for(model)
    if price is None:
        return None, None
    return price, price.cost(prompt_tokens=prompt, completion_tokens=completion)


def usage_report(
    *, records: QuerySet[UsageRecord], days: int = DAYS, now: datetime | None = None
) -> UsageReport:
    """The report of `records` (already scoped to a user or a team) over the last `days`
    UTC days, today included."""
    since, until, start = _window(now, days)
    rows = records.filter(created_at__gte=start)
    report = UsageReport(since=since, until=until)
    per_day: dict[date, dict[str, int]] = defaultdict(dict)
    per_model: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    grouped = (
        rows.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .values("day", "model")
        .annotate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"), n=Count("id"))
        .order_by()
    )
    for row in grouped:
        p, c = row["p"] or 0, row["c"] or 0
        per_day[row["day"]][row["model"]] = per_day[row["day"]].get(row["model"], 0) + p + c
        totals = per_model[row["model"]]
        totals[0] += p
        totals[1] += c
        totals[2] += row["n"]
    for offset in range(days):
        day = since + timedelta(days=offset)
        by_model = per_day.get(day, {})
        report.days.append(Day(day=day, by_model=by_model, total=sum(by_model.values())))
    for model, (p, c, n) in per_model.items():
        price, cost = _cost(model, p, c)
        report.models.append(ModelTotal(model, p, c, n, price, cost))
        report.prompt_tokens += p
        report.completion_tokens += c
        report.calls += n
        if cost is None:
            report.unpriced.append(model or "(unknown model)")
        else:
            report.cost += cost
    report.models.sort(key=lambda m: (-m.tokens, m.model))
    labels = dict(UsageRecord.Kind.choices)
    by_kind = (
        rows.values("kind")
        .annotate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"), n=Count("id"))
        .order_by("kind")
    )
    report.kinds = sorted(
        (
            Total(labels.get(r["kind"], r["kind"]), r["p"] or 0, r["c"] or 0, r["n"])
            for r in by_kind
        ),
        key=lambda t: (-t.tokens, t.label),
    )
    report.comparison = usage_compare(
        prompt_tokens=report.prompt_tokens, completion_tokens=report.completion_tokens
    )
    return report


def usage_by_member(
    *, records: QuerySet[UsageRecord], days: int = DAYS, now: datetime | None = None
) -> list[Total]:
    """A team's usage per member over the window, most tokens first, with the estimated
    cost of their priced models."""
    _since, _until, start = _window(now, days)
    grouped = (
        records.filter(created_at__gte=start)
        .values("user_id", "user__username", "model")
        .annotate(p=Sum("prompt_tokens"), c=Sum("completion_tokens"), n=Count("id"))
        .order_by()
    )
    members: dict[int, list] = {}
    for row in grouped:
        p, c = row["p"] or 0, row["c"] or 0
        entry = members.setdefault(row["user_id"], [row["user__username"], 0, 0, 0, Decimal(0)])
        entry[1] += p
        entry[2] += c
        entry[3] += row["n"]
        _price, cost = _cost(row["model"], p, c)
        entry[4] += cost or 0
    totals = [Total(name, p, c, n, cost) for name, p, c, n, cost in members.values()]
    return sorted(totals, key=lambda t: (-t.tokens, t.label))


def _today(records: QuerySet[UsageRecord], limits: Limits, now: datetime | None) -> Today:
    _since, _until, start = _window(now, 1)
    used = records.filter(created_at__gte=start).aggregate(
        p=Sum("prompt_tokens"), c=Sum("completion_tokens")
    )
    return Today(
        limits=limits,
        tokens=(used["p"] or 0) + (used["c"] or 0),
        resets_at=start + timedelta(days=1),
    )


def usage_today_for_user(*, user, now: datetime | None = None) -> Today:
    return _today(UsageRecord.objects.owned_by(user), limits_for_user(user), now)


def usage_today_for_team(*, team, now: datetime | None = None) -> Today:
    return _today(UsageRecord.objects.of_team(team), limits_for_team(team), now)
