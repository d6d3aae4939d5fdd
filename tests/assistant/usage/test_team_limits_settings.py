"""The team's limits on its settings page: admins set requests a minute and tokens a day
(empty: the site's), within the site's team limit, audited like the other settings; the
site admin sets a person's limits on their account settings."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from assistant.account_models import AccountSettings
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import TeamError, team_settings_update
from assistant.usage.limits import limits_for_team, limits_for_user

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _post(user, team, **fields):
    data = {"extraction_enabled": "on", **fields}
    return _client(user).post(reverse("teams:settings", args=[team.pk]), data)


def test_an_admin_sets_the_teams_limits_and_it_is_audited(people, settings):
    settings.LIMIT_TEAM_REQUESTS_PER_MINUTE = 0
    settings.LIMIT_TEAM_TOKENS_PER_DAY = 500_000
    team = people.team

    page = _client(people.admin).get(reverse("teams:detail", args=[team.pk])).content.decode()
    assert 'name="limit_requests_per_minute"' in page and 'name="limit_tokens_per_day"' in page
    response = _post(
        people.admin, team, limit_requests_per_minute="20", limit_tokens_per_day="100000"
    )

    assert response.status_code == 302
    team.refresh_from_db()
    assert (team.limit_requests_per_minute, team.limit_tokens_per_day) == (20, 100_000)
    assert limits_for_team(team).requests_per_minute == 20
    event = AuditEvent.objects.get(action="team.settings_changed")
    assert event.detail == {"limit_requests_per_minute": 20, "limit_tokens_per_day": 100_000}
    assert event.actor_name == "ada-admin"

    # Empty again: the site's limits.
    assert _post(people.owner, team).status_code == 302
    team.refresh_from_db()
    assert team.limit_requests_per_minute is None and team.limit_tokens_per_day is None
    assert limits_for_team(team).tokens_per_day == 500_000


def test_an_admin_cannot_lift_the_sites_team_limit(people, settings):
    settings.LIMIT_TEAM_TOKENS_PER_DAY = 500_000
    response = _post(people.admin, people.team, limit_tokens_per_day="600000")
    assert response.status_code == 400
    assert "at most 500,000 tokens a day" in response.content.decode()
    with pytest.raises(TeamError):
        team_settings_update(actor=people.admin, team=people.team, limit_requests_per_minute=0)
    people.team.refresh_from_db()
    assert people.team.limit_tokens_per_day is None


def test_a_member_cannot_set_them(people):
    response = _post(people.member, people.team, limit_requests_per_minute="1000")
    assert response.status_code == 403
    people.team.refresh_from_db()
    assert people.team.limit_requests_per_minute is None


def test_the_site_admin_sets_a_persons_limits(owner, client, django_user_model, settings):
    settings.LIMIT_USER_REQUESTS_PER_MINUTE = 10
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-1")
    account = AccountSettings.objects.create(user=owner)
    client.force_login(root)
    url = reverse("admin:assistant_accountsettings_change", args=[account.pk])
    assert client.get(url).status_code == 200

    response = client.post(url, {"limit_requests_per_minute": "3", "limit_tokens_per_day": ""})

    assert response.status_code == 302
    owner.refresh_from_db()
    assert limits_for_user(owner).requests_per_minute == 3
    assert limits_for_user(owner).tokens_per_day == settings.LIMIT_USER_TOKENS_PER_DAY


def test_the_site_admin_adds_limits_for_someone_without_settings(owner, client, django_user_model):
    root = django_user_model.objects.create_superuser("root", "root@example.com", "pw-long-1")
    client.force_login(root)
    url = reverse("admin:assistant_accountsettings_add")
    response = client.post(url, {"user": owner.pk, "limit_tokens_per_day": "5000"})
    assert response.status_code == 302
    owner.refresh_from_db()
    assert limits_for_user(owner).tokens_per_day == 5000
