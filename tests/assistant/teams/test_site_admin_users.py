"""The site admin's user pages: a team owner cannot be deleted (the page says why), teams'
accounts are not listed as people, and deleting an ordinary member works."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from assistant.teams.models import Membership, Team
from tests.assistant.teams.personas import person

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def site_admin_client(people) -> Client:
    admin = person("root")
    User.objects.filter(pk=admin.pk).update(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(User.objects.get(pk=admin.pk))
    return browser


def test_deleting_a_team_owner_is_refused_with_the_reason(people, site_admin_client):
    url = f"/admin/auth/user/{people.owner.pk}/delete/"
    page = site_admin_client.get(url)
    assert page.status_code == 200
    assert "transfer its ownership" in page.text
    assert "Lighthouse" in page.text

    site_admin_client.post(url, {"post": "yes"})
    assert User.objects.filter(pk=people.owner.pk).exists()
    assert Membership.objects.filter(team=people.team, user=people.owner, role="owner").exists()


def test_a_member_can_be_deleted_and_leaves_the_team(people, site_admin_client):
    response = site_admin_client.post(
        f"/admin/auth/user/{people.member.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    assert not User.objects.filter(pk=people.member.pk).exists()
    assert not Membership.objects.filter(team=people.team, user_id=people.member.pk).exists()


def test_team_accounts_are_not_listed_as_people(people, site_admin_client):
    listing = site_admin_client.get("/admin/auth/user/")
    assert people.member.username in listing.text
    account = Team.objects.get(pk=people.team.pk).account
    assert account.username not in listing.text
    assert site_admin_client.get(f"/admin/auth/user/{account.pk}/change/").status_code == 302
