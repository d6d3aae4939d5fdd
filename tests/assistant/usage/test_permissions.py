"""Every usage URL for the owner, an admin, a member, a former member and an outsider of a
team, and an anonymous visitor. A new usage URL without a row fails."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from tests.assistant.teams.personas import url_names

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")
# name -> statuses of owner, admin, member, former member, outsider (GET).
ROWS = {
    "usage:mine": (200, 200, 200, 200, 200),  # each their own usage
    "usage:team": (200, 200, 403, 404, 404),
}


def test_every_usage_url_has_a_row():
    assert url_names("usage") == set(ROWS)


def _url(people, name: str) -> str:
    return reverse(name, args=[people.team.pk]) if name == "usage:team" else reverse(name)


@pytest.mark.parametrize(("name", "persona"), [(n, p) for n in ROWS for p in PERSONAS])
def test_each_persona(client, people, name, persona):
    client.force_login(people.get(persona))
    response = client.get(_url(people, name))
    assert response.status_code == dict(zip(PERSONAS, ROWS[name], strict=True))[persona]


@pytest.mark.parametrize("name", ROWS)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, people, name):
    response = client.get(_url(people, name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")


@pytest.mark.parametrize("name", ROWS)
def test_the_pages_are_read_only(client, people, name):
    client.force_login(people.owner)
    assert client.post(_url(people, name)).status_code == 405


def test_an_unknown_team_is_404(client, people):
    client.force_login(people.owner)
    assert client.get(reverse("usage:team", args=[people.team.pk + 1000])).status_code == 404
