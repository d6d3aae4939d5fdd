"""Every token page URL for the owner, an admin, a member, a former member and an outsider
of a team (rows checked against the URL conf: a new tokens URL without a row fails), and
what a team admin sees of the tokens reaching their team.

The target is a token the plain member made with the team's scope. A personal page acts on
one's own tokens only (anyone else's: 404); the team page is for admins and the owner
(a member: 403; a former member or an outsider: 404). Refusals change nothing."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from assistant.api.models import ApiToken
from assistant.api.tokens import token_create
from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Membership, Role
from assistant.teams.services import member_remove, team_create, team_leave
from tests.assistant.teams.personas import People, join, person, url_names

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")
ROWS = {
    "tokens:list": ("get", (200, 200, 200, 200, 200)),
    "tokens:create": ("post", (200, 200, 200, 200, 200)),
    "tokens:revoke": ("post", (404, 404, 302, 404, 404)),
    "tokens:team": ("get", (200, 200, 403, 404, 404)),
    "tokens:team-revoke": ("post", (302, 302, 403, 404, 404)),
}


def test_every_tokens_url_has_a_row():
    assert url_names("tokens") == set(ROWS)


@pytest.fixture
def people(db) -> People:
    """The teams tests' personas (tests/assistant/teams/conftest.py), made the same way."""
    owner = person("tess-owner")
    team = team_create(actor=owner, name="Lighthouse")
    admin, member, former = person("ada-admin"), person("max-member"), person("fay")
    join(team, owner, admin, Role.ADMIN)
    join(team, owner, member)
    join(team, owner, former)
    team_leave(actor=former, team=team)
    return People(team, owner, admin, member, former, person("otto-outsider"))


@pytest.fixture
def target(people):
    token, _ = token_create(
        user=people.member, name="max's editor", scopes=["chat"], team=people.team
    )
    return token


def _url(people, name: str, token: ApiToken) -> str:
    if name in ("tokens:list", "tokens:create"):
        return reverse(name)
    if name == "tokens:revoke":
        return reverse(name, args=[token.pk])
    if name == "tokens:team":
        return reverse(name, args=[people.team.pk])
    return reverse(name, args=[people.team.pk, token.pk])


DATA = {"name": "mine", "scopes": ["memory:read"], "expiry": "7"}


def _state():
    return (
        sorted(ApiToken.objects.values_list("pk", "revoked_at", "revoked_by")),
        AuditEvent.objects.count(),
    )


@pytest.mark.parametrize(("name", "persona"), [(n, p) for n in ROWS for p in PERSONAS])
def test_each_persona(client, people, target, name, persona):
    method, row = ROWS[name]
    expected = dict(zip(PERSONAS, row, strict=True))[persona]
    before = _state()
    client.force_login(people.get(persona))
    response = getattr(client, method)(_url(people, name, target), DATA)
    assert response.status_code == expected, response.content[:300]
    if expected in (403, 404):
        assert _state() == before
    if name.endswith("revoke") and expected == 302:
        target.refresh_from_db()
        assert target.revoked_by == people.get(persona)


@pytest.mark.parametrize("name", ROWS)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, people, target, name):
    before = _state()
    response = getattr(client, ROWS[name][0])(_url(people, name, target), DATA)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")
    assert _state() == before


@pytest.mark.parametrize("name", [n for n, (method, _) in ROWS.items() if method == "post"])
def test_changes_are_posts_with_the_csrf_token(people, target, name):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.owner if name != "tokens:revoke" else people.member)
    before = _state()
    assert strict.get(_url(people, name, target)).status_code == 405
    assert strict.post(_url(people, name, target), DATA).status_code == 403
    assert _state() == before


def test_the_team_page_lists_the_teams_tokens_without_secrets(people, target):
    team = people.team
    personal, _ = token_create(user=people.member, name="max's own script", scopes=["chat"])
    elsewhere = team_create(actor=people.admin, name="Elsewhere")
    join(elsewhere, people.admin, people.member)
    other, _ = token_create(
        user=people.member, name="for elsewhere", scopes=["chat"], team=elsewhere
    )
    admin = Client()
    admin.force_login(people.admin)
    page = admin.get(reverse("tokens:team", args=[team.pk])).content.decode()
    assert "max-member" in page and "max&#x27;s editor" in page and target.prefix in page
    assert target.secret_hash not in page and "own script" not in page
    assert "for elsewhere" not in page
    assert reverse("tokens:team-revoke", args=[team.pk, target.pk]) in page
    # A token of another team cannot be revoked through this team's page.
    response = admin.post(reverse("tokens:team-revoke", args=[team.pk, other.pk]))
    assert response.status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None and personal.revoked_at is None


def test_a_former_members_token_is_marked_and_still_revocable(people, target):
    membership = Membership.objects.get(team=people.team, user=people.member)
    member_remove(actor=people.owner, team=people.team, member=membership)
    owner = Client()
    owner.force_login(people.owner)
    page = owner.get(reverse("tokens:team", args=[people.team.pk])).content.decode()
    assert "(left the team)" in page
    member = Client()
    member.force_login(people.member)
    assert "(you left it: personal only)" in member.get(reverse("tokens:list")).content.decode()
    response = owner.post(reverse("tokens:team-revoke", args=[people.team.pk, target.pk]))
    assert response.status_code == 302
    target.refresh_from_db()
    assert target.revoked_by == people.owner


def test_admins_find_their_teams_token_pages(people):
    for persona, linked in (("owner", True), ("admin", True), ("member", False)):
        browser = Client()
        browser.force_login(people.get(persona))
        url = reverse("tokens:team", args=[people.team.pk])
        assert (url in browser.get(reverse("tokens:list")).content.decode()) is linked
        detail = browser.get(reverse("teams:detail", args=[people.team.pk])).content.decode()
        assert (url in detail) is linked
