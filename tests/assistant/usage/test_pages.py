"""The usage pages: numbers, estimated cost and the comparison come from the records;
the team page shows the team's usage per member to its admins only."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from assistant.teams.services import team_settings_update
from assistant.usage.models import UsageRecord
from assistant.usage.pricing import dollars, price_for, tokens_short
from assistant.usage.selectors import usage_by_member, usage_report
from assistant.usage.services import usage_record
from tests.factories import user_create

pytestmark = pytest.mark.django_db


def record(user, model, prompt, completion, *, kind="chat", team=None, days_ago=0):
    row = usage_record(
        user=user, kind=kind, model=model, prompt_tokens=prompt, completion_tokens=completion,
        team=team,
    )  # fmt: skip
    if days_ago:
        UsageRecord.objects.filter(pk=row.pk).update(
            created_at=timezone.now() - timedelta(days=days_ago)
        )
    return row


def page(user, url) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_prices_match_names_loosely():
    assert price_for("scripted-fast").input == Decimal("1.0")
    assert price_for("DeepSeek-R1").model == "deepseek-r1"
    assert price_for("deepseek-ai/DeepSeek-R1").model == "deepseek-r1"
    assert price_for("mystery-model") is None and price_for("") is None
    assert [dollars(Decimal("27.6")), dollars(Decimal("0.0042")), dollars(None)] == [
        "$27.60", "$0.0042", "no price set",
    ]  # fmt: skip
    assert [tokens_short(1_200_100), tokens_short(34_500), tokens_short(999)] == [
        "1.2M", "34.5k", "999",
    ]  # fmt: skip


def test_my_usage_page_shows_days_models_kinds_cost_and_the_comparison(owner, people):
    record(owner, "scripted-fast", 900_000, 150_000)
    record(owner, "scripted-fast", 100_000, 50_000, kind="summary", days_ago=3)
    record(owner, "mystery-model", 100, 0, kind="api", team=people.team)
    record(owner, "scripted-fast", 5_000_000, 0, days_ago=40)  # outside the 30 days
    record(people.member, "o1", 1_000, 1_000)  # someone else's

    report = usage_report(records=UsageRecord.objects.owned_by(owner))
    assert (report.prompt_tokens, report.completion_tokens, report.calls) == (1_000_100, 200_000, 3)
    assert len(report.days) == 30 and report.days[-1].total == 1_050_100
    assert report.days[-4].by_model == {"scripted-fast": 150_000}
    fast = next(m for m in report.models if m.model == "scripted-fast")
    assert fast.cost == Decimal("1.4")  # 1M in at $1 + 200k out at $2
    assert report.cost == Decimal("1.4") and report.unpriced == ["mystery-model"]
    compare = {row.model: row.cost for row in report.comparison}
    assert compare == {
        "deepseek-r1": Decimal("0.550055") + Decimal("0.438"),
        "o1": Decimal("15.0015") + Decimal("12"),
    }
    assert {k.label: k.tokens for k in report.kinds} == {
        "Chat": 1_050_000, "Session summary": 150_000, "API": 100,
    }  # fmt: skip

    html = page(owner, reverse("usage:mine"))
    assert "Your 1.2M tokens in the last 30 days" in html
    assert "$0.99 at deepseek-r1 prices, $27.00 at o1 prices" in html
    assert "<strong>$1.40</strong>" in html and "no price set for mystery-model" in html
    assert "<svg" in html and "<rect" in html and "Session summary" in html
    assert "o1</td>" not in html  # the other person's model


def test_an_empty_usage_page_says_so(owner):
    html = page(owner, reverse("usage:mine"))
    assert "No model calls in the last 30 days" in html
    assert "<rect" not in html


def test_an_unpriced_comparison_model_says_no_price_set(owner, settings):
    settings.USAGE_COMPARE_MODELS = ["deepseek-r1", "gpt-9"]
    record(owner, "scripted-fast", 1_000_000, 0)
    html = page(owner, reverse("usage:mine"))
    assert "$0.55 at deepseek-r1 prices, no price set at gpt-9 prices" in html


def test_the_team_page_shows_members_days_and_todays_use_against_the_limits(people, settings):
    settings.LIMIT_TEAM_TOKENS_PER_DAY = 0
    team = people.team
    team_settings_update(actor=people.owner, team=team, limit_tokens_per_day=50_000)
    record(people.member, "scripted-fast", 30_000, 10_000, team=team)
    record(people.admin, "scripted-fast", 1_000, 500, team=team, days_ago=2)
    record(people.former, "o1", 2_000, 0, team=team, days_ago=5)  # before they left
    record(people.member, "o1", 999_999, 0)  # personal: never on the team's page
    outsider = user_create("someone-else", password=None)
    record(outsider, "o1", 777, 0, team=None)

    members = usage_by_member(records=UsageRecord.objects.of_team(team))
    assert [(m.label, m.tokens) for m in members] == [
        ("max-member", 40_000), ("fay", 2_000), ("ada-admin", 1_500),
    ]  # fmt: skip
    assert members[0].cost == Decimal("0.05")  # 30k in at $1, 10k out at $2

    html = page(people.admin, reverse("usage:team", args=[team.pk]))
    assert "max-member" in html and "fay" in html and "ada-admin" in html
    assert "Tokens today (UTC): <strong>40,000</strong> of 50,000 a day (10,000 left" in html
    assert "Lighthouse&#x27;s 43.5k tokens in the last 30 days" in html
    assert "999999" not in html and "999,999" not in html and "someone-else" not in html
