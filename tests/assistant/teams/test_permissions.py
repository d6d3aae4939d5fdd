"""Every teams URL for six people: the owner, an admin, a member, a former member, an
outsider and an anonymous visitor. The rows are checked against the URL conf: a new
teams URL without a row here fails test_every_teams_url_has_a_row.

Refusals are 404 for anyone outside the team (a former member too: whether the team
exists is not revealed) and 403 for a member lacking the role; neither changes anything."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from assistant.account_models import AccountSettings
from assistant.models import Conversation, Message
from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Invitation, Membership, Role
from memory.models import MemoryItem
from tests.assistant.teams.personas import issue, url_names
from tests.factories import remember

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")

# name -> (method, statuses of owner, admin, member, former member, outsider). Targets: the
# team, the plain member's membership, a pending invitation made by the owner. Success is
# a redirect (302) or a page (200).
ROWS = {
    "teams:index": ("get", (200, 200, 200, 200, 200)),
    "teams:create": ("post", (302, 302, 302, 302, 302)),
    "teams:switch": ("post", (302, 302, 302, 404, 404)),
    "teams:join": ("get", (200, 200, 200, 200, 200)),
    "teams:detail": ("get", (200, 200, 200, 404, 404)),
    "teams:settings": ("post", (302, 302, 403, 404, 404)),
    "teams:invite": ("post", (200, 200, 403, 404, 404)),
    "teams:invitation-revoke": ("post", (302, 302, 403, 404, 404)),
    "teams:member-role": ("post", (302, 302, 403, 404, 404)),
    "teams:member-remove": ("post", (302, 302, 403, 404, 404)),
    "teams:transfer": ("post", (302, 403, 403, 404, 404)),
    "teams:leave": ("post", (302, 302, 302, 404, 404)),
    "teams:audit": ("get", (200, 200, 403, 404, 404)),
    "teams:audit-csv": ("get", (200, 200, 403, 404, 404)),
    # Proposals: each persona proposes their own memory / chat passage to the team they
    # have stored as active (a former member's and an outsider's choice is not trusted).
    "teams:propose-memory": ("post", (302, 302, 302, 404, 404)),
    "teams:propose-passage": ("post", (302, 302, 302, 404, 404)),
}
# Joining by POST: the members are members already (409); the others join (302).
JOIN_POST = dict(zip(PERSONAS, (409, 409, 409, 302, 302), strict=True))


def test_every_teams_url_has_a_row():
    teams_urls = url_names("teams")
    assert teams_urls == set(ROWS)


def _request(people, name: str, persona: str = "owner"):
    """(url, data) for one row, against the people's team (a proposal: of `persona`'s own
    memory or chat message)."""
    team = people.team
    if name.startswith("teams:propose-"):
        return _proposal_request(people, name, people.get(persona))
    member = Membership.objects.get(team=team, user=people.member)
    if name == "teams:join":
        return reverse(name, args=[issue(team, people.owner)[1]]), {}
    if name == "teams:invitation-revoke":
        return reverse(name, args=[team.pk, issue(team, people.owner)[0].pk]), {}
    if name in ("teams:member-role", "teams:member-remove", "teams:transfer"):
        return reverse(name, args=[team.pk, member.pk]), {"role": "admin"}
    if name in ("teams:index", "teams:create", "teams:switch"):
        return reverse(name), {"name": "Another", "team": team.pk}
    return reverse(name, args=[team.pk]), {"role": "member", "members_may_invite": "on"}


def _proposal_request(people, name: str, user):
    AccountSettings.objects.update_or_create(user=user, defaults={"active_team": people.team})
    if name == "teams:propose-memory":
        return reverse(name, args=[remember(user, "Deploys freeze on Fridays.").pk]), {}
    conversation = Conversation.objects.create(owner=user, team=people.team)
    message = Message.objects.create(conversation=conversation, role="assistant", content="Hi.")
    return reverse(name, args=[conversation.pk, message.pk]), {"quote": "Hi."}


def _state(people):
    team = people.team
    team.refresh_from_db()
    return (
        team.name,
        team.members_may_invite,
        sorted(Membership.objects.filter(team=team).values_list("user__username", "role")),
        sorted(Invitation.objects.filter(team=team).values_list("pk", "used_at", "revoked_at")),
        AuditEvent.objects.filter(team_id=team.pk).count(),
        MemoryItem.objects.filter(owner=team.account).count(),
    )


CASES = [(name, persona) for name in ROWS for persona in PERSONAS]


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_each_persona(client, people, name, persona):
    method, row = ROWS[name]
    statuses = dict(zip(PERSONAS, row, strict=True))
    url, data = _request(people, name, persona)
    before = _state(people)
    client.force_login(people.get(persona))
    response = getattr(client, method)(url, data)
    assert response.status_code == statuses[persona], response.content[:300]
    if statuses[persona] in (403, 404):
        assert _state(people) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_joining_by_post(client, people, persona):
    client.force_login(people.get(persona))
    _, token = issue(people.team, people.owner)
    response = client.post(reverse("teams:join", args=[token]))
    assert response.status_code == JOIN_POST[persona]
    role = Membership.objects.get(team=people.team, user=people.get(persona)).role
    assert role == {"owner": Role.OWNER, "admin": Role.ADMIN}.get(persona, Role.MEMBER)


@pytest.mark.parametrize("name", ROWS)
def test_an_anonymous_visitor_is_sent_to_sign_in(client, people, name):
    method = ROWS[name][0]
    url, data = _request(people, name)
    before = _state(people)
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")
    assert _state(people) == before


@pytest.mark.parametrize("name", [n for n, (method, _) in ROWS.items() if method == "post"])
def test_changes_are_posts(client, people, name):
    client.force_login(people.owner)
    url, _ = _request(people, name)
    before = _state(people)
    assert client.get(url).status_code == 405
    assert _state(people) == before


def test_changes_need_the_csrf_token(people):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.owner)
    for name in ("teams:leave", "teams:member-remove", "teams:invite", "teams:switch"):
        url, data = _request(people, name)
        assert strict.post(url, data).status_code == 403
    assert len(_state(people)[2]) == 3
