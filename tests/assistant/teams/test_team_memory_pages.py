"""Team memory on the memory pages: the same list, search, item page, history, forget,
export/import and review inbox as personal memory, on the team account's memories, kept by
the team's admins (revisions and the audit log name them). Personal and team memory never
show on each other's pages; a member's turn in a team conversation reads team memory, an
outsider's never; its chips say "team"."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from assistant.models import ContextItem, Conversation, Message
from assistant.services.conversations import conversation_create, message_send
from assistant.services.turn_context import turn_prompt_prepare
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import active_team_switch, team_leave
from memory.models import MemoryItem, MemoryRevision, MemorySettings, Status
from memory.search import memory_search
from memory.services.proposals import memory_edit_propose, memory_promote
from tests.factories import remember

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
WIFI = "The Lighthouse office wifi password is gull-harbour-42."
BIKE = "Max keeps a spare bike helmet under his desk."


def signed_in(user, team=None) -> Client:
    """A browser of `user`, working in `team` (None: personal space)."""
    if team is not None:
        active_team_switch(user=user, team_id=team.pk)
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def wifi(people):
    return remember(people.team.account, WIFI, changed_by=people.owner)


@pytest.fixture
def bike(people):
    return remember(people.member, BIKE)


def _links(html: str) -> list[str]:
    return re.findall(r'(?:href|hx-get|hx-post|action)="(/[^"]*)"', html)


def test_the_team_page_lists_team_memory_only_and_links_within_it(people, wifi, bike):
    admin = signed_in(people.admin, people.team)
    page = admin.get(reverse("team-memory:index"))
    html = page.content.decode()
    assert page.status_code == 200
    assert "<title>Team memory - Lighthouse" in html and "Team memory - Lighthouse</a></h1>" in html
    assert "gull-harbour-42" in html and "spare bike helmet" not in html
    memory_links = [link for link in _links(html) if "memory/" in link and "/static/" not in link]
    # Everything links within the team's space, but the top bar's way back to one's own.
    assert [link for link in memory_links if not link.startswith("/team/memory/")] == ["/memory/"]
    assert f"/team/memory/{wifi.pk}/" in memory_links
    # The admin keeps it: the add form, export, import and "forget everything" are there.
    for marker in ('id="add-form"', "/team/memory/export", 'id="import-form"', "forget-all"):
        assert marker in html
    # Extraction never writes a team's memory: no auto-accept switch there.
    assert 'name="paused"' in html and 'name="auto_accept_extracted"' not in html
    search = admin.get(reverse("team-memory:index"), {"q": "bike helmet"}).content.decode()
    assert "spare bike helmet" not in search
    assert "gull-harbour" in admin.get(reverse("team-memory:index"), {"q": "wifi"}).content.decode()


def test_the_personal_page_never_shows_team_memory(people, wifi, bike):
    member = signed_in(people.member, people.team)
    html = member.get(reverse("memory:index")).content.decode()
    assert "spare bike helmet" in html and "gull-harbour-42" not in html
    assert "<title>Memory · Recall</title>" in html
    # The top bar offers the team's memory (the user works in a team); nothing else goes there.
    team_links = [link for link in _links(html) if link.startswith("/team/memory/")]
    assert team_links == ["/team/memory/"] and "Team memory (Lighthouse)" in html
    searched = member.get(reverse("memory:index"), {"q": "wifi password"}).content.decode()
    assert "gull-harbour-42" not in searched
    assert member.get(reverse("memory:detail", args=[wifi.pk])).status_code == 404
    # Outside a team there is no team link at all.
    alone = signed_in(people.outsider)
    assert "/team/memory/" not in alone.get(reverse("memory:index")).content.decode()


def test_a_member_reads_and_proposes_an_edit_instead_of_editing(people, wifi):
    member = signed_in(people.member, people.team)
    html = member.get(reverse("team-memory:detail", args=[wifi.pk])).content.decode()
    assert "gull-harbour-42" in html and "Propose an edit" in html
    assert reverse("team-memory:edit", args=[wifi.pk]) not in html
    for action in ("forget", "pin", "forget-permanently", "wrong"):
        assert reverse(f"team-memory:{action}", args=[wifi.pk]) not in html
    index = member.get(reverse("team-memory:index")).content.decode()
    assert 'id="add-form"' not in index and "/team/memory/export" not in index
    assert 'name="paused"' not in index

    url = reverse("team-memory:propose-edit", args=[wifi.pk])
    form = member.get(url, **HX).content.decode()
    assert "Proposing an edit" in form and f'hx-post="{url}"' in form
    done = member.post(url, {"text": "The wifi password is tern-harbour-7."}, **HX)
    assert "Edit proposed" in done.content.decode()
    proposal = MemoryItem.objects.owned_by(people.team.account).proposed().get()
    assert (proposal.proposed_by, proposal.supersedes) == (people.member, wifi)
    wifi.refresh_from_db()
    assert wifi.text == WIFI and wifi.status == Status.ACTIVE  # unchanged until reviewed
    again = member.post(url, {"text": "The wifi password is tern-harbour-7."}, **HX)
    assert "already waiting for review" in again.content.decode()
    # The member sees it waiting in the inbox, without the admin's buttons.
    inbox = member.get(reverse("team-memory:inbox"), {"view": "inbox"}).content.decode()
    assert "tern-harbour-7" in inbox and "Waiting for an admin" in inbox
    assert reverse("team-memory:accept", args=[proposal.pk]) not in inbox


def test_an_admin_accepts_a_proposal_and_the_item_page_shows_its_provenance(people, wifi):
    proposal = memory_edit_propose(
        actor=people.member, item=wifi, text="The wifi password is tern-harbour-7."
    )
    admin = signed_in(people.admin, people.team)
    inbox = admin.get(reverse("team-memory:inbox"), {"view": "inbox"}).content.decode()
    assert reverse("team-memory:accept", args=[proposal.pk]) in inbox
    assert "Members proposed these" in inbox and "Proposed by max-member" in inbox
    response = admin.post(
        reverse("team-memory:accept", args=[proposal.pk]), {"view": "inbox"}, **HX
    )
    assert response.status_code == 200
    proposal.refresh_from_db()
    wifi.refresh_from_db()
    assert proposal.status == Status.ACTIVE and wifi.status == Status.ARCHIVED
    assert proposal.approved_by == people.admin and proposal.approved_at is not None
    page = signed_in(people.member, people.team)
    html = page.get(reverse("team-memory:detail", args=[proposal.pk])).content.decode()
    assert "Proposed by max-member" in html and "Approved by ada-admin" in html
    accepted = MemoryRevision.objects.filter(item=proposal, reason="accepted in review").get()
    assert accepted.changed_by == people.admin
    assert "ada-admin" in html  # the history names the admin, not "You", for others


def test_a_promoted_memory_never_leads_to_the_members_own(people):
    own = remember(people.member, "Deploys happen on Thursdays after lunch.")
    promoted = memory_promote(actor=people.member, team_owner=people.team.account, item=own)
    admin = signed_in(people.admin, people.team)
    html = admin.get(reverse("team-memory:detail", args=[promoted.pk])).content.decode()
    assert (
        "Promoted from a member&#x27;s memory" in html or "Promoted from a member's memory" in html
    )
    assert f"/memory/{own.pk}/" not in html and f"m:{own.pk}]" not in html
    bulk = {"ids": [promoted.pk], "action": "accept"}
    admin.post(reverse("team-memory:review-bulk"), bulk, **HX)
    promoted.refresh_from_db()
    assert promoted.status == Status.ACTIVE and promoted.approved_by == people.admin
    own.refresh_from_db()
    assert own.approved_by is None  # personal memory keeps no approver


def test_an_admins_changes_are_revisions_naming_the_admin(people, wifi):
    admin = signed_in(people.admin, people.team)
    edit = reverse("team-memory:edit", args=[wifi.pk])
    assert admin.post(edit, {"text": "The wifi password is puffin-99."}, **HX).status_code == 200
    admin.post(reverse("team-memory:pin", args=[wifi.pk]), {"pinned": "true"}, **HX)
    admin.post(reverse("team-memory:forget", args=[wifi.pk]), **HX)
    admin.post(reverse("team-memory:unforget", args=[wifi.pk]), **HX)
    wifi.refresh_from_db()
    assert (wifi.text, wifi.pinned, wifi.is_forgotten) == (
        "The wifi password is puffin-99.",
        True,
        False,
    )
    latest = MemoryRevision.objects.filter(item=wifi).exclude(changed_by=people.owner)
    assert latest.count() == 4 and {rev.changed_by for rev in latest} == {people.admin}
    # Restoring the first text is a revision by the admin too.
    first = MemoryRevision.objects.filter(item=wifi).order_by("created_at", "id").first()
    restore = reverse("team-memory:restore", args=[wifi.pk, first.pk])
    assert "Restored" in admin.post(restore, {"view": "detail"}, **HX).content.decode()
    wifi.refresh_from_db()
    assert wifi.text == WIFI
    # The team's audit log has each, with the team and the admin, never the text.
    events = AuditEvent.objects.filter(team_id=people.team.pk, action__startswith="memory.")
    assert {"memory.edited", "memory.pinned", "memory.forgotten"} <= set(
        events.values_list("action", flat=True)
    )
    assert set(events.exclude(action="memory.created").values_list("actor_id", flat=True)) == {
        people.admin.pk
    }
    assert not any("puffin" in json.dumps(event.detail) for event in events)
    # Forget for good: the text is gone, the history says who.
    admin.post(reverse("team-memory:forget-permanently", args=[wifi.pk]), **HX)
    wifi.refresh_from_db()
    assert wifi.is_redacted and "puffin" not in wifi.text
    assert AuditEvent.objects.filter(team_id=people.team.pk, action="memory.erased").exists()


def test_personal_memory_events_stay_off_the_team_log(people, bike):
    member = signed_in(people.member, people.team)
    member.post(reverse("memory:pin", args=[bike.pk]), {"pinned": "true"}, **HX)
    event = AuditEvent.objects.get(action="memory.pinned")
    assert (event.team_id, event.owner_id, event.actor_id) == (
        None,
        people.member.pk,
        people.member.pk,
    )


def test_an_admin_exports_and_imports_the_teams_memory(people, wifi, bike):
    admin = signed_in(people.admin, people.team)
    response = admin.get(reverse("team-memory:export"))
    assert response.status_code == 200
    assert 'filename="team-memory-lighthouse-export-' in response["Content-Disposition"]
    data = json.loads(response.content)
    texts = [item["text"] for item in data["items"]]
    assert texts == [WIFI]  # the team's only: never a member's own
    exported = AuditEvent.objects.get(action="memory.exported")
    assert (exported.team_id, exported.actor_id) == (people.team.pk, people.admin.pk)

    data["items"].append(
        {**data["items"][0], "id": "new-1", "text": "Lunch is at noon.", "revisions": []}
    )
    upload = io.BytesIO(json.dumps(data).encode())
    upload.name = "team.json"
    html = admin.post(reverse("team-memory:import"), {"file": upload}, **HX).content.decode()
    assert "Imported 1 memory. 1 memory was already there and skipped." in html
    imported = MemoryItem.objects.owned_by(people.team.account).get(text="Lunch is at noon.")
    assert imported.revisions.get().changed_by == people.admin
    assert not MemoryItem.objects.owned_by(people.admin).exists()


def test_an_admin_pauses_the_teams_memory_and_forgets_everything(people, wifi, bike):
    admin = signed_in(people.admin, people.team)
    admin.post(
        reverse("team-memory:settings"), {"paused": "on", "auto_accept_extracted": "on"}, **HX
    )
    settings_row = MemorySettings.objects.get(owner=people.team.account)
    assert settings_row.paused and not settings_row.auto_accept_extracted
    assert not MemorySettings.objects.filter(owner=people.admin).exists()
    member_view = signed_in(people.member, people.team).get(reverse("team-memory:index"))
    assert "The team's memory is paused" in member_view.content.decode()
    admin.post(reverse("team-memory:forget-all"), {"confirm": "forget everything"}, **HX)
    wifi.refresh_from_db()
    bike.refresh_from_db()
    assert wifi.is_forgotten and not bike.is_forgotten


def test_the_team_page_leads_to_the_team_memory(people):
    member = signed_in(people.member)  # in personal space: the button switches first
    html = member.get(reverse("teams:detail", args=[people.team.pk])).content.decode()
    assert 'name="next" value="/team/memory/"' in html and "Team memory" in html
    response = member.post(
        reverse("teams:switch"), {"team": people.team.pk, "next": "/team/memory/"}
    )
    assert response.status_code == 302 and response["Location"] == "/team/memory/"
    assert member.get("/team/memory/").status_code == 200


def turn(conversation: Conversation, text: str) -> tuple[Message, str]:
    """One turn's retrieval (no model asked): the answer and its system prompt."""
    _, answer = message_send(conversation=conversation, text=text)
    prompt = turn_prompt_prepare(answer=answer)
    Message.objects.filter(pk=answer.pk).update(status=Message.Status.COMPLETE)
    return answer, prompt.messages[0]["content"]


def test_retrieval_reads_team_memory_for_members_in_team_chats_only(people, wifi, bike):
    question = "What is the office wifi password?"
    shared = (people.team.account_id,)
    found = memory_search(owner=people.member, query=question, shared_owner_ids=shared)
    assert wifi.pk in {result.item.pk for result in found}
    assert wifi.pk not in {r.item.pk for r in memory_search(owner=people.outsider, query=question)}

    team_chat = conversation_create(owner=people.member, team=people.team)
    answer, system = turn(team_chat, question)
    assert f"[m:{wifi.pk}]" in system and "gull-harbour-42" in system
    row = ContextItem.objects.get(answer=answer, memory=wifi)
    assert row.injected

    personal_chat = conversation_create(owner=people.member)
    _, system = turn(personal_chat, question)
    assert "gull-harbour-42" not in system
    outsider_chat = conversation_create(owner=people.outsider)
    _, system = turn(outsider_chat, question)
    assert "gull-harbour-42" not in system

    # A member who left: their old team conversation no longer reads the team's memory.
    team_leave(actor=people.member, team=people.team)
    _, system = turn(team_chat, question)
    assert "gull-harbour-42" not in system


def test_a_team_memorys_chip_and_inspector_row_say_team(people, wifi, bike):
    team_chat = conversation_create(owner=people.member, team=people.team)
    answer, _ = turn(team_chat, "What is the office wifi password? And where is my bike helmet?")
    member = signed_in(people.member, people.team)
    html = member.get(reverse("chat:conversation", args=[team_chat.pk])).content.decode()
    chips = re.findall(r'<a class="chip[^"]*" href="([^"]+)"[^>]*>(.*?)</a>', html)
    by_link = dict(chips)
    wifi_row = ContextItem.objects.get(answer=answer, memory=wifi)
    chip_link = reverse("chat:memory", args=[team_chat.pk, answer.pk, wifi_row.pk])
    team_chip = by_link[chip_link]
    assert "chip-team" in team_chip and ">team<" in team_chip
    injected_bike = ContextItem.objects.filter(answer=answer, memory=bike, injected=True).exists()
    if injected_bike:
        assert ">team<" not in by_link[reverse("memory:detail", args=[bike.pk])]
        bike_row = ContextItem.objects.get(answer=answer, memory=bike)
        own = member.get(reverse("chat:memory", args=[team_chat.pk, answer.pk, bike_row.pk]))
        assert own.status_code == 302
        assert own["Location"] == reverse("memory:detail", args=[bike.pk])
    assert member.get(reverse("team-memory:detail", args=[wifi.pk])).status_code == 200
    # The chip opens whichever team the member works in now (here: personal space).
    active_team_switch(user=people.member, team_id=None)
    page = member.get(chip_link)
    assert page.status_code == 200 and "gull-harbour-42" in page.text
    assert reverse("team-memory:detail", args=[wifi.pk]) in page.text  # "open it there"
    inspector = member.get(reverse("chat:context", args=[team_chat.pk, answer.pk])).content.decode()
    row = next(line for line in inspector.split("<tr") if f"<code>m:{wifi.pk}</code>" in line)
    assert '<span class="chip-team">team</span>' in row
    # Nobody else opens it; a former member's team chip leads nowhere any more.
    assert signed_in(people.admin).get(chip_link).status_code == 404  # not their chat
    assert Client().get(chip_link).status_code == 302  # signed out: to the sign-in page
    team_leave(actor=people.member, team=people.team)
    assert member.get(reverse("team-memory:detail", args=[wifi.pk])).status_code == 404
    assert member.get(chip_link).status_code == 404


def test_a_paused_team_memory_is_not_read_in_team_chats(people, wifi):
    admin = signed_in(people.admin, people.team)
    admin.post(reverse("team-memory:settings"), {"paused": "on"}, **HX)
    team_chat = conversation_create(owner=people.member, team=people.team)
    _, system = turn(team_chat, "What is the office wifi password?")
    assert "gull-harbour-42" not in system
    admin.post(reverse("team-memory:settings"), {}, **HX)  # switched back on
    _, system = turn(team_chat, "What is the office wifi password?")
    assert "gull-harbour-42" in system
