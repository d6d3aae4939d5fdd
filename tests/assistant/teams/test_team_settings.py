"""Team settings (allowed models, learning from team chats, chat retention, members
inviting): the service, its audit record, the page, and the allowed models enforced on
team conversations (create, switch, answer)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from assistant.models import Conversation
from assistant.services.conversations import (
    conversation_create,
    conversation_update,
    message_send,
)
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import TeamError, active_team_switch, team_settings_update

pytestmark = pytest.mark.django_db

SETTINGS = "team.settings_changed"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# -- the service ------------------------------------------------------------------------


def test_every_setting_is_saved_and_the_changed_values_recorded(people):
    team_settings_update(
        actor=people.admin, team=people.team, members_may_invite=True,
        allowed_profiles=["fast"], extraction_enabled=False, chat_retention_days=30,
    )  # fmt: skip
    people.team.refresh_from_db()
    assert people.team.members_may_invite and people.team.allowed_profiles == ["fast"]
    assert not people.team.extraction_enabled and people.team.chat_retention_days == 30
    event = AuditEvent.objects.get(action=SETTINGS)
    assert event.actor_name == "ada-admin" and event.team_id == people.team.pk
    assert event.detail == {
        "members_may_invite": True, "allowed_profiles": ["fast"],
        "extraction_enabled": False, "chat_retention_days": 30,
    }  # fmt: skip

    # Only what changed is recorded; saving the same values again records nothing.
    team_settings_update(
        actor=people.owner, team=people.team, members_may_invite=True,
        allowed_profiles=["fast"], extraction_enabled=True, chat_retention_days=None,
    )  # fmt: skip
    latest = AuditEvent.objects.filter(action=SETTINGS).first()
    assert latest.detail == {"extraction_enabled": True, "chat_retention_days": None}
    team_settings_update(actor=people.owner, team=people.team, extraction_enabled=True)
    assert AuditEvent.objects.filter(action=SETTINGS).count() == 2


def test_settings_are_for_admins(people):
    for persona in ("member", "former", "outsider"):
        with pytest.raises(PermissionDenied):
            team_settings_update(actor=people.get(persona), team=people.team, chat_retention_days=1)
    people.team.refresh_from_db()
    assert people.team.chat_retention_days is None
    assert not AuditEvent.objects.filter(action=SETTINGS).exists()


@pytest.mark.parametrize(
    "change",
    [{"allowed_profiles": ["nonesuch"]}, {"chat_retention_days": 0},
     {"chat_retention_days": 3651}],
)  # fmt: skip
def test_bad_values_are_refused_in_words(people, change):
    with pytest.raises(TeamError):
        team_settings_update(actor=people.owner, team=people.team, **change)
    assert not AuditEvent.objects.filter(action=SETTINGS).exists()


def test_allowed_profiles_are_kept_in_settings_order_without_repeats(people):
    team = team_settings_update(
        actor=people.owner, team=people.team, allowed_profiles=["fast", "thinking", "fast"]
    )
    assert team.allowed_profiles == ["thinking", "fast"]


# -- the page ---------------------------------------------------------------------------


def test_the_admin_sees_and_saves_the_settings_form(people):
    client = _client(people.admin)
    page = client.get(reverse("teams:detail", args=[people.team.pk])).content.decode()
    assert 'name="allowed_profiles"' in page and 'name="chat_retention_days"' in page
    assert 'name="extraction_enabled"' in page and "checked" in page  # learning on
    response = client.post(
        reverse("teams:settings", args=[people.team.pk]),
        {"allowed_profiles": ["thinking"], "chat_retention_days": "90"},
    )
    assert response.status_code == 302
    people.team.refresh_from_db()
    assert people.team.allowed_profiles == ["thinking"]
    assert people.team.chat_retention_days == 90
    assert not people.team.extraction_enabled and not people.team.members_may_invite


def test_a_member_sees_no_settings_form(people):
    page = _client(people.member).get(reverse("teams:detail", args=[people.team.pk]))
    assert 'name="chat_retention_days"' not in page.content.decode()


@pytest.mark.parametrize(
    "data", [{"chat_retention_days": "0"}, {"chat_retention_days": "9999"},
             {"allowed_profiles": ["nonesuch"]}],
)  # fmt: skip
def test_a_bad_form_comes_back_with_its_error_and_changes_nothing(people, data):
    response = _client(people.owner).post(reverse("teams:settings", args=[people.team.pk]), data)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    people.team.refresh_from_db()
    assert people.team.chat_retention_days is None and people.team.allowed_profiles == []
    assert people.team.extraction_enabled


# -- allowed models in team chats -----------------------------------------------------------


def _only(people, *profiles: str) -> None:
    team_settings_update(actor=people.owner, team=people.team, allowed_profiles=list(profiles))
    people.team.refresh_from_db()


def test_a_team_chat_is_created_only_with_an_allowed_profile(people):
    _only(people, "thinking")
    with pytest.raises(ValidationError) as refused:
        conversation_create(owner=people.member, profile="fast", team=people.team)
    assert "Thinking" in refused.value.messages[0] and "Fast" in refused.value.messages[0]
    assert not Conversation.objects.exists()
    # No profile given: the team's first allowed one (the site default, fast, is not).
    assert conversation_create(owner=people.member, team=people.team).profile == "thinking"
    # Personal chats are not limited by any team.
    assert conversation_create(owner=people.member, profile="fast").profile == "fast"


def test_no_allowed_profiles_means_all(people):
    conversation = conversation_create(owner=people.member, profile="fast", team=people.team)
    assert conversation.profile == "fast"


def test_switching_a_team_chat_to_a_profile_it_does_not_allow_is_refused(people):
    conversation = conversation_create(owner=people.member, profile="fast", team=people.team)
    _only(people, "fast")
    with pytest.raises(ValidationError):
        conversation_update(conversation=conversation, profile="thinking")
    conversation.refresh_from_db()
    assert conversation.profile == "fast"


def test_after_the_team_narrows_the_list_the_next_answer_uses_the_first_allowed(people):
    conversation = conversation_create(owner=people.member, profile="fast", team=people.team)
    _only(people, "thinking")
    _, answer = message_send(conversation=conversation, text="Hello")
    assert answer.profile == "thinking"
    conversation.refresh_from_db()
    assert conversation.profile == "thinking"


def test_the_chat_offers_only_allowed_profiles_and_says_why_it_refuses(people):
    _only(people, "thinking")
    active_team_switch(user=people.member, team_id=people.team.pk)
    client = _client(people.member)
    home = client.get(reverse("chat:home")).content.decode()
    assert 'value="thinking"' in home and 'value="fast"' not in home

    refused = client.post(reverse("chat:conversation-new"), {"profile": "fast"})
    assert refused.status_code == 400
    assert "not allowed here" in refused.content.decode()
    assert not Conversation.objects.exists()

    created = client.post(reverse("chat:conversation-new"), {"profile": "thinking"})
    assert created.status_code == 302
    conversation = Conversation.objects.get()
    assert conversation.team == people.team
    picker = client.post(reverse("chat:profile", args=[conversation.pk]), {"profile": "fast"})
    assert "not allowed here" in picker.content.decode()
    assert 'value="fast"' not in picker.content.decode()
    conversation.refresh_from_db()
    assert conversation.profile == "thinking"
