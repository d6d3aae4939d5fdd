"""Proposing to the team from the pages: the "Propose to team" button of a personal
memory, the passage form under a chat answer, their results and refusals (404, nothing
written), and extraction that never writes a team's memory."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from assistant.account_models import AccountSettings
from assistant.models import Conversation, Message
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import active_team_switch, member_remove
from memory.models import MemoryItem, Source, Status
from tests.factories import remember

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
ANSWER = "Sure. The **VPN** is at vpn.example.org; use port 443 from hotel networks."


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def team_memory(people):
    return MemoryItem.objects.owned_by(people.team.account)


def working_in_team(people, user):
    active_team_switch(user=user, team_id=people.team.pk)
    return user


def answer_of(user, *, team=None, incognito=False) -> Message:
    conversation = Conversation.objects.create(owner=user, team=team, incognito=incognito)
    Message.objects.create(conversation=conversation, role="user", content="How do I get in?")
    return Message.objects.create(conversation=conversation, role="assistant", content=ANSWER)


def propose_memory(client, item, **extra):
    return client.post(reverse("teams:propose-memory", args=[item.pk]), **extra)


def propose_passage(client, message, quote="", **extra):
    url = reverse("teams:propose-passage", args=[message.conversation_id, message.pk])
    return client.post(url, {"quote": quote}, **extra)


def test_a_member_proposes_a_personal_memory(people):
    member = working_in_team(people, people.member)
    mine = remember(member, "Deploys freeze on Fridays.")

    response = propose_memory(signed_in(member), mine, **HTMX)

    assert response.status_code == 200
    assert "Proposed to Lighthouse: an admin will review it." in response.content.decode()
    proposal = team_memory(people).get()
    assert proposal.status == Status.PROPOSED and proposal.source == Source.PROMOTED
    assert proposal.proposed_by == member and proposal.promoted_from == mine
    event = AuditEvent.objects.get(action="memory.proposed")
    assert event.actor_id == member.pk and event.target_id == str(proposal.pk)
    assert "Fridays" not in str(event.detail)


def test_proposing_twice_shows_the_reason(people):
    member = working_in_team(people, people.member)
    mine = remember(member, "Deploys freeze on Fridays.")
    client = signed_in(member)
    propose_memory(client, mine, **HTMX)
    response = propose_memory(client, mine, **HTMX)
    assert "already waiting for review" in response.content.decode()
    assert team_memory(people).count() == 1


def test_without_javascript_the_result_follows_a_redirect(people):
    member = working_in_team(people, people.member)
    mine = remember(member, "Deploys freeze on Fridays.")
    response = propose_memory(signed_in(member), mine)
    assert response.status_code == 302
    assert response["Location"] == reverse("memory:detail", args=[mine.pk])
    assert team_memory(people).count() == 1


def test_promoting_someone_elses_memory_is_404_and_writes_nothing(people):
    member = working_in_team(people, people.member)
    theirs = remember(people.admin, "Ada's dentist is on Friday.")
    shared = remember(people.team.account, "Stand-up is at 9:30.")
    before = MemoryItem.objects.count(), AuditEvent.objects.count()
    client = signed_in(member)
    assert propose_memory(client, theirs, **HTMX).status_code == 404
    assert propose_memory(client, shared, **HTMX).status_code == 404
    assert (MemoryItem.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("persona", ["former", "outsider"])
def test_proposing_outside_the_team_is_404(people, persona):
    user = people.get(persona)
    # A stored choice of the team is not trusted: the membership is checked now.
    AccountSettings.objects.update_or_create(user=user, defaults={"active_team": people.team})
    mine = remember(user, "Deploys freeze on Fridays.")
    client = signed_in(user)
    assert propose_memory(client, mine, **HTMX).status_code == 404
    assert propose_passage(client, answer_of(user, team=people.team), **HTMX).status_code == 404
    assert not team_memory(people).exists()


def test_a_member_removed_meanwhile_proposes_nothing(people):
    member = working_in_team(people, people.member)
    mine = remember(member, "Deploys freeze on Fridays.")
    membership = people.team.memberships.get(user=member)
    member_remove(actor=people.owner, team=people.team, member=membership)
    assert propose_memory(signed_in(member), mine, **HTMX).status_code == 404
    assert not team_memory(people).exists()


def test_the_memory_card_offers_the_active_team_for_ones_own_active_memories(people):
    member = people.member
    mine = remember(member, "Deploys freeze on Fridays.")
    client = signed_in(member)
    url = reverse("memory:detail", args=[mine.pk])
    assert "Propose to team" not in client.get(url).content.decode()  # personal space

    working_in_team(people, member)
    page = client.get(url).content.decode()
    assert "Propose to team Lighthouse" in page
    assert reverse("teams:propose-memory", args=[mine.pk]) in page
    archived = remember(member, "Old plan.", status=Status.ARCHIVED)
    page = client.get(reverse("memory:detail", args=[archived.pk])).content.decode()
    assert "Propose to team" not in page


def test_the_chat_answer_offers_a_passage_form_in_a_team_chat(people):
    member = working_in_team(people, people.member)
    message = answer_of(member, team=people.team)
    page = signed_in(member).get(reverse("chat:conversation", args=[message.conversation_id]))
    body = page.content.decode()
    assert reverse("teams:propose-passage", args=[message.conversation_id, message.pk]) in body
    assert "Propose to Lighthouse" in body


def test_no_passage_form_in_an_incognito_chat_or_outside_a_team(people):
    member = people.member
    personal = answer_of(member)
    client = signed_in(member)
    page = client.get(reverse("chat:conversation", args=[personal.conversation_id]))
    assert "Propose to team" not in page.content.decode()

    working_in_team(people, member)
    incognito = answer_of(member, incognito=True)
    page = client.get(reverse("chat:conversation", args=[incognito.conversation_id]))
    assert "Propose to team" not in page.content.decode()
    assert propose_passage(client, incognito, "port 443", **HTMX).status_code == 404


def test_a_passage_is_proposed_from_a_team_chat(people):
    member = people.member  # the chat's team counts even when another context is active
    message = answer_of(member, team=people.team)

    response = propose_passage(
        signed_in(member), message, "use port 443 from hotel networks", **HTMX
    )

    assert "Proposed to Lighthouse: an admin will review it." in response.content.decode()
    proposal = team_memory(people).get()
    assert proposal.text == "use port 443 from hotel networks"
    assert proposal.source_message == message and proposal.quote == proposal.text
    assert proposal.proposed_by == member and proposal.status == Status.PROPOSED


def test_a_refused_passage_keeps_what_was_typed(people):
    member = working_in_team(people, people.member)
    message = answer_of(member)
    typed = "The VPN is at vpn.evil.example"
    response = propose_passage(signed_in(member), message, typed, **HTMX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "not in this message" in body and typed in body
    assert not team_memory(people).exists()


def test_another_users_message_is_404(people):
    working_in_team(people, people.member)
    theirs = answer_of(people.admin, team=people.team)
    response = propose_passage(signed_in(people.member), theirs, "port 443", **HTMX)
    assert response.status_code == 404
    assert not team_memory(people).exists()


def test_a_proposal_is_on_the_teams_audit_log_without_its_text(people):
    member = working_in_team(people, people.member)
    mine = remember(member, "Deploys freeze on Fridays.")
    propose_memory(signed_in(member), mine, **HTMX)

    event = AuditEvent.objects.get(action="memory.proposed")
    assert event.team_id == people.team.pk and event.owner_id is None
    assert event.actor_id == member.pk
    page = signed_in(people.admin).get(reverse("teams:audit", args=[people.team.pk]))
    body = page.content.decode()
    assert "Memory proposed to the team" in body and "Fridays" not in body


def test_the_streamed_answers_final_frame_has_the_passage_form(people):
    member = working_in_team(people, people.member)
    message = answer_of(member)
    # Drawn without a request, for the conversation's owner (assistant/views/stream.py).
    frame = render_to_string(
        "assistant/chat.html#message",
        {"message": message, "conversation": message.conversation, "final_frame": True},
    )
    assert reverse("teams:propose-passage", args=[message.conversation_id, message.pk]) in frame
    assert "Propose to Lighthouse" in frame
