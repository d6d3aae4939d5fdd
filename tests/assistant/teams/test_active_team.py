"""The active team: switching, the chat header's switcher, and the fall-back to personal
space the moment a membership ends."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.test import RequestFactory
from django.urls import reverse

from assistant.account_models import AccountSettings
from assistant.teams.models import Membership
from assistant.teams.selectors import active_context_for_user, active_team_for
from assistant.teams.services import active_team_switch, member_remove, team_create

pytestmark = pytest.mark.django_db


def stored(user):
    found = AccountSettings.objects.filter(user=user).first()
    return found.active_team_id if found else None


def test_switching_to_a_team_and_back(people):
    assert active_context_for_user(people.member).label == "Personal"
    active_team_switch(user=people.member, team_id=people.team.pk)
    context = active_context_for_user(people.member)
    assert (context.team, context.role, context.label) == (people.team, "member", "Lighthouse")
    active_team_switch(user=people.member, team_id=None)
    assert active_context_for_user(people.member).is_personal


@pytest.mark.parametrize("persona", ["outsider", "former"])
def test_switching_to_a_team_one_is_not_in_is_404_and_changes_nothing(people, persona):
    user = people.get(persona)
    own = team_create(actor=user, name="Mine")
    active_team_switch(user=user, team_id=own.pk)
    with pytest.raises(Http404):
        active_team_switch(user=user, team_id=people.team.pk)
    assert stored(user) == own.pk


def test_a_removed_member_is_back_in_personal_space_at_once(people):
    active_team_switch(user=people.member, team_id=people.team.pk)
    request = RequestFactory().get("/")
    request.user = people.member
    assert active_team_for(request) == people.team
    member_remove(
        actor=people.owner, team=people.team,
        member=Membership.objects.get(team=people.team, user=people.member),
    )  # fmt: skip
    again = RequestFactory().get("/")
    again.user = people.member
    assert active_team_for(again) is None  # the stored choice is not trusted


def test_the_switch_view(people, client):
    client.force_login(people.member)
    response = client.post(reverse("teams:switch"), {"team": people.team.pk, "next": "/teams/"})
    assert response.status_code == 302 and response["Location"] == "/teams/"
    assert stored(people.member) == people.team.pk
    response = client.post(reverse("teams:switch"), {"team": "", "next": "https://evil.example/"})
    assert response["Location"] == reverse("chat:home") and stored(people.member) is None
    for bad in (people.team.pk + 1000, "1 OR 1=1"):
        assert client.post(reverse("teams:switch"), {"team": bad}).status_code == 404
    assert stored(people.member) is None


def test_an_outsider_switching_by_post_gets_404(people, client):
    client.force_login(people.outsider)
    assert client.post(reverse("teams:switch"), {"team": people.team.pk}).status_code == 404
    assert stored(people.outsider) is None


def test_the_chat_header_shows_the_context_and_the_switcher(people, client):
    client.force_login(people.member)
    body = client.get(reverse("chat:home")).content.decode()
    assert 'class="team-switcher"' in body
    assert '<option value="" selected>Personal</option>' in body
    assert f'<option value="{people.team.pk}" >Lighthouse</option>' in body
    active_team_switch(user=people.member, team_id=people.team.pk)
    body = client.get(reverse("chat:home")).content.decode()
    assert f'<option value="{people.team.pk}" selected>Lighthouse</option>' in body


def test_the_outsiders_switcher_lists_no_team_of_others(people, client):
    client.force_login(people.outsider)
    body = client.get(reverse("chat:home")).content.decode()
    assert "Lighthouse" not in body and "Personal" in body
