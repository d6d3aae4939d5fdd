"""Team sources: an admin adds a connection owned by the team's account; its events and
passages are read for members in conversations started in the team, never in personal
chats nor for outsiders; removing a member ends their access at once (pages, turns and
the links of answers they got while a member). Syncs and audit events carry the team."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from assistant.background.syncs import connections_due
from assistant.background.tasks import connection_sync
from assistant.models import ContextItem, Conversation, Message
from assistant.services.conversations import conversation_create, message_send
from assistant.services.turn_context import turn_prompt_prepare
from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Membership
from assistant.teams.services import active_team_switch, member_remove
from connectors.models import Connection, Event
from tests.calendar_factories import calendar_create, event_add
from tests.connectors.fake_feed import FakeFeedServer, Page, calendar, day, vevent
from tests.document_factories import document_add, folder_create

pytestmark = pytest.mark.django_db

PATH = "/team.ics"
OFFSITE = vevent("offsite-1", "Lighthouse offsite", start=f"{day(1)}T100000Z")
VPN = "The office VPN password rotates every Monday; ask Quentin at the front desk for it."
QUESTION_FILES = "When does the office VPN password rotate?"
QUESTION_TIME = "What's on tomorrow?"


@pytest.fixture
def feed():
    with FakeFeedServer() as server:
        server.pages[PATH] = Page(body=calendar(OFFSITE))
        yield server


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def turn(conversation: Conversation, text: str) -> tuple[Message, str]:
    """One turn's retrieval (no model asked): the answer and its system prompt."""
    _, answer = message_send(conversation=conversation, text=text)
    prompt = turn_prompt_prepare(answer=answer)
    Message.objects.filter(pk=answer.pk).update(status=Message.Status.COMPLETE)
    return answer, prompt.messages[0]["content"]


def used(answer: Message, source: str) -> list[ContextItem]:
    return list(ContextItem.objects.filter(answer=answer, source=source, injected=True))


@pytest.fixture
def team_feed(people, feed, syncs):
    """The admin adds the team's calendar feed on the team's connections page; it syncs."""
    active_team_switch(user=people.admin, team_id=people.team.pk)
    response = signed_in(people.admin).post(
        reverse("team-connectors:add", args=["ics"]),
        {"url": feed.url(PATH), "name": "Team calendar"},
    )
    connection = Connection.objects.get(label="Team calendar")
    assert response.status_code == 302
    assert response["Location"] == reverse("team-connectors:detail", args=[connection.pk])
    assert syncs == [connection.pk]  # its first sync was queued
    connection_sync.apply(args=(connection.pk,))
    return connection


@pytest.fixture
def team_drive(people):
    folder = folder_create(people.team.account, "Team docs")
    return document_add(folder, "Office/IT.md", [(VPN, {"heading": "VPN"})])


def test_the_admins_connection_is_the_teams_and_syncs_with_the_team_in_the_audit_log(
    people, team_feed
):
    assert team_feed.owner_id == people.team.account_id
    assert list(Event.objects.filter(connection=team_feed).values_list("title", flat=True)) == [
        "Lighthouse offsite"
    ]
    connected = AuditEvent.objects.get(action="connection.connected", target_id=str(team_feed.pk))
    assert (connected.team_id, connected.actor_id, connected.owner_id) == (
        people.team.pk, people.admin.pk, None,
    )  # fmt: skip
    synced = AuditEvent.objects.get(action="connection.synced", target_id=str(team_feed.pk))
    assert (synced.team_id, synced.owner_id) == (people.team.pk, None)


def test_team_connections_are_synced_by_the_schedule(people, team_drive):
    """The team's account is inactive; the schedule must not care."""
    assert not people.team.account.is_active
    assert team_drive.connection in connections_due()


def test_a_members_team_turn_reads_the_teams_event_and_passage(people, team_feed, team_drive):
    conversation = conversation_create(owner=people.member, team=people.team)

    answer, system = turn(conversation, QUESTION_TIME)
    (event_row,) = used(answer, ContextItem.Source.EVENT)
    assert event_row.event.connection_id == team_feed.pk and "team" in event_row.signals
    assert "Lighthouse offsite" in system and '"calendar": "team"' in system

    answer, system = turn(conversation, QUESTION_FILES)
    (passage_row,) = used(answer, ContextItem.Source.DOCUMENT)
    assert passage_row.chunk.document_id == team_drive.pk and "team" in passage_row.signals
    assert "Quentin" in system


def test_personal_chats_and_outsiders_never_read_team_sources(people, team_feed, team_drive):
    for owner in (people.member, people.admin, people.outsider):
        personal = conversation_create(owner=owner)
        for question in (QUESTION_TIME, QUESTION_FILES):
            answer, system = turn(personal, question)
            assert "Quentin" not in system and "Lighthouse offsite" not in system
            assert not ContextItem.objects.filter(answer=answer).exclude(memory__isnull=False)
    # A former member's conversation started in the team reads nothing of it either.
    old = Conversation.objects.create(owner=people.former, team=people.team)
    for question in (QUESTION_TIME, QUESTION_FILES):
        answer, system = turn(old, question)
        assert "Quentin" not in system and "Lighthouse offsite" not in system


def test_chips_say_team_and_open_for_a_current_member(people, team_feed, team_drive):
    active_team_switch(user=people.member, team_id=people.team.pk)
    conversation = conversation_create(owner=people.member, team=people.team)
    event_answer, _ = turn(conversation, QUESTION_TIME)
    passage_answer, _ = turn(conversation, QUESTION_FILES)
    event_row = used(event_answer, ContextItem.Source.EVENT)[0]
    passage_row = used(passage_answer, ContextItem.Source.DOCUMENT)[0]
    member = signed_in(people.member)

    page = member.get(reverse("chat:conversation", args=[conversation.pk])).content.decode()
    event_link = reverse("chat:event", args=[conversation.pk, event_answer.pk, event_row.pk])
    passage_link = reverse(
        "chat:passage", args=[conversation.pk, passage_answer.pk, passage_row.pk]
    )
    assert event_link in page and passage_link in page
    assert page.count('<span class="chip-team">team</span>') >= 2
    # The personal pages' links are not used for team rows (they would be 404).
    assert reverse("connectors:passage", args=[passage_row.chunk_id]) not in page

    assert "Lighthouse offsite" in member.get(event_link).content.decode()
    assert "Quentin" in member.get(passage_link).content.decode()
    # The member may also open them on the team's pages while working in the team.
    team_event = reverse("team-connectors:event", args=[event_row.event_id])
    assert member.get(team_event).status_code == 200
    # Nobody else opens the member's answer's links: not an admin, not an outsider.
    for other in (people.admin, people.outsider):
        assert signed_in(other).get(event_link).status_code == 404
        assert signed_in(other).get(passage_link).status_code == 404


def test_removing_a_member_ends_their_access_at_once(people, team_feed, team_drive):
    active_team_switch(user=people.member, team_id=people.team.pk)
    conversation = conversation_create(owner=people.member, team=people.team)
    event_answer, _ = turn(conversation, QUESTION_TIME)
    passage_answer, _ = turn(conversation, QUESTION_FILES)
    event_row = used(event_answer, ContextItem.Source.EVENT)[0]
    passage_row = used(passage_answer, ContextItem.Source.DOCUMENT)[0]
    member = signed_in(people.member)
    pages = [
        reverse("team-connectors:index"),
        reverse("team-connectors:detail", args=[team_feed.pk]),
        reverse("team-connectors:files", args=[team_drive.connection_id]),
        reverse("team-connectors:event", args=[event_row.event_id]),
        reverse("team-connectors:passage", args=[passage_row.chunk_id]),
        reverse("chat:event", args=[conversation.pk, event_answer.pk, event_row.pk]),
        reverse("chat:passage", args=[conversation.pk, passage_answer.pk, passage_row.pk]),
    ]
    assert [member.get(url).status_code for url in pages] == [200] * len(pages)

    membership = Membership.objects.get(team=people.team, user=people.member)
    member_remove(actor=people.owner, team=people.team, member=membership)

    assert [member.get(url).status_code for url in pages] == [404] * len(pages)
    for question in (QUESTION_TIME, QUESTION_FILES):
        answer, system = turn(conversation, question)
        assert "Quentin" not in system and "Lighthouse offsite" not in system
        assert not used(answer, ContextItem.Source.EVENT)
        assert not used(answer, ContextItem.Source.DOCUMENT)


def test_a_removed_team_passage_stays_members_only(people, team_drive):
    """A team passage whose file is gone since: the answer's recorded text, while a member."""
    conversation = conversation_create(owner=people.member, team=people.team)
    answer, _ = turn(conversation, QUESTION_FILES)
    row = used(answer, ContextItem.Source.DOCUMENT)[0]
    team_drive.delete()  # its chunks go; the row keeps the text
    link = reverse("chat:passage", args=[conversation.pk, answer.pk, row.pk])
    member = signed_in(people.member)
    assert "Quentin" in member.get(link).content.decode()
    membership = Membership.objects.get(team=people.team, user=people.member)
    member_remove(actor=people.owner, team=people.team, member=membership)
    assert member.get(link).status_code == 404


def test_the_team_page_leads_to_the_team_connections(people):
    member = signed_in(people.member)
    body = member.get(reverse("teams:detail", args=[people.team.pk])).content.decode()
    assert reverse("team-connectors:index") in body
    response = member.post(
        reverse("teams:switch"), {"team": people.team.pk, "next": reverse("team-connectors:index")}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("team-connectors:index")
    assert member.get(reverse("team-connectors:index")).status_code == 200


def test_chat_event_of_ones_own_event_goes_to_its_page(people):
    """chat:event for a personal event: the owner is sent to the event's page; another
    user gets 404; an anonymous visitor is sent to sign in."""
    start = datetime.combine(date.today() + timedelta(days=1), time(9), tzinfo=UTC)
    event = event_add(calendar_create(people.member), "Dentist", start)
    conversation = conversation_create(owner=people.member)
    answer, _ = turn(conversation, QUESTION_TIME)
    (row,) = used(answer, ContextItem.Source.EVENT)
    assert row.event_id == event.pk and "team" not in row.signals
    link = reverse("chat:event", args=[conversation.pk, answer.pk, row.pk])
    response = signed_in(people.member).get(link)
    assert response.status_code == 302
    assert response["Location"] == reverse("connectors:event", args=[event.pk])
    assert signed_in(people.outsider).get(link).status_code == 404
    assert Client().get(link).status_code == 302


def test_an_admin_disconnects_the_teams_connection_recorded_for_the_team(people, team_feed):
    admin = signed_in(people.admin)
    response = admin.post(reverse("team-connectors:disconnect", args=[team_feed.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("team-connectors:index")
    assert not Connection.objects.filter(pk=team_feed.pk).exists()
    assert not Event.objects.filter(owner=people.team.account).exists()
    gone = AuditEvent.objects.get(action="connection.disconnected")
    assert (gone.team_id, gone.actor_id, gone.owner_id) == (people.team.pk, people.admin.pk, None)
