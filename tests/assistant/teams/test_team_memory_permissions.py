"""Every team memory URL (/team/memory/..., the `team-memory:` namespace) for the owner, an
admin, a member, a former member and an outsider, each working in the team (or trying to:
the former member's stale choice of the team is not trusted). The rows are checked against
the URL conf: a new team memory URL without a row here fails.

Members read (200) and may propose an edit; every other change is the admins' (a member
gets 403). Anyone outside the team gets 404. A refusal changes nothing."""

from __future__ import annotations

import io
import json

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse

from assistant.account_models import AccountSettings
from assistant.teams.audit_models import AuditEvent
from assistant.teams.services import active_team_switch
from memory.models import MemoryItem, MemoryRevision, MemorySettings
from memory.services import memory_forget, memory_update
from memory.services.proposals import memory_edit_propose
from tests.assistant.teams.personas import url_names
from tests.factories import remember

pytestmark = pytest.mark.django_db

PERSONAS = ("owner", "admin", "member", "former", "outsider")
HX = {"HTTP_HX_REQUEST": "true"}
READ = (200, 200, 200, 404, 404)
ADMIN = (200, 200, 403, 404, 404)
# The background-work poller: with nothing pending it answers htmx's "stop polling" (286).
POLL = (286, 286, 286, 404, 404)

# (name, method) -> statuses of owner, admin, member, former member, outsider (htmx
# requests: a success is the page or the swapped section, 200).
ROWS = {
    ("team-memory:index", "get"): READ,
    ("team-memory:inbox", "get"): READ,
    ("team-memory:detail", "get"): READ,
    ("team-memory:item", "get"): READ,
    ("team-memory:history", "get"): READ,
    ("team-memory:propose-edit", "get"): READ,
    ("team-memory:propose-edit", "post"): READ,
    ("team-memory:add", "post"): ADMIN,
    ("team-memory:settings", "post"): ADMIN,
    ("team-memory:review-bulk", "post"): ADMIN,
    ("team-memory:export", "get"): ADMIN,
    ("team-memory:import", "post"): ADMIN,
    ("team-memory:forget-all", "post"): ADMIN,
    ("team-memory:edit", "get"): ADMIN,
    ("team-memory:edit", "post"): ADMIN,
    ("team-memory:pin", "post"): ADMIN,
    ("team-memory:wrong", "post"): ADMIN,
    ("team-memory:reactivate", "post"): ADMIN,
    ("team-memory:forget", "post"): ADMIN,
    ("team-memory:unforget", "post"): ADMIN,
    ("team-memory:forget-permanently", "post"): ADMIN,
    ("team-memory:restore", "post"): ADMIN,
    ("team-memory:accept", "get"): ADMIN,
    ("team-memory:accept", "post"): ADMIN,
    ("team-memory:reject", "post"): ADMIN,
    ("team-memory:background", "get"): POLL,
}


def test_every_team_memory_url_has_a_row():
    urls = url_names("team-memory")
    assert urls == {name for name, _ in ROWS}


def test_the_personal_memory_pages_have_the_same_urls_but_proposing_and_the_poller():
    """The team's background poller twins `background-status`, which sits outside /memory/."""
    names = url_names()
    personal = {name.split(":", 1)[1] for name in names if name.startswith("memory:")}
    team = {name.split(":", 1)[1] for name in names if name.startswith("team-memory:")}
    assert team - personal == {"propose-edit", "background"} and personal <= team
    assert "background-status" in names


@pytest.fixture
def targets(people):
    """Team memories: an active one (edited once, so it has a revision to restore), a
    forgotten one, and an edit a member proposed. Everyone still in the team works in it;
    the former member's stored choice still names it."""
    account, owner = people.team.account, people.owner
    item = remember(account, "The office wifi is called Lighthouse-5G.", changed_by=owner)
    memory_update(
        item=item, text="The office wifi is Lighthouse-6G.", actor="user", changed_by=owner
    )
    gone = remember(account, "The old door code was 4411.", changed_by=owner)
    memory_forget(item=gone, actor="user", changed_by=owner)
    proposed = memory_edit_propose(
        actor=people.member, item=item, text="The office wifi is Lighthouse-7G."
    )
    for persona in ("owner", "admin", "member"):
        active_team_switch(user=people.get(persona), team_id=people.team.pk)
    stale = {"active_team": people.team}
    AccountSettings.objects.update_or_create(user=people.former, defaults=stale)
    return {"item": item, "gone": gone, "proposed": proposed}


def _request(people, targets, name: str, method: str):
    """(url, data) for one row."""
    item, gone, proposed = targets["item"], targets["gone"], targets["proposed"]
    short = name.split(":", 1)[1]
    if short == "restore":
        first = MemoryRevision.objects.filter(item=item).order_by("created_at", "id").first()
        return reverse(name, args=[item.pk, first.pk]), {}
    if short in ("accept", "reject"):
        return reverse(name, args=[proposed.pk]), {}
    if short in ("unforget", "forget-permanently"):
        return reverse(name, args=[gone.pk]), {}
    if short in ("detail", "item", "history", "edit", "pin", "wrong", "reactivate", "forget"):
        return reverse(name, args=[item.pk]), {"text": "The office wifi is Lighthouse-8G."}
    if short == "propose-edit":
        return reverse(name, args=[item.pk]), {"text": "The office wifi is Lighthouse-9G."}
    if short == "import":
        export = {"format": "recall-assistant/memory", "version": 1,
                  "items": [{"text": "Parking is in bay 3."}]}  # fmt: skip
        upload = io.BytesIO(json.dumps(export).encode())
        upload.name = "export.json"
        return reverse(name), {"file": upload}
    if short == "review-bulk":
        return reverse(name), {"ids": [proposed.pk], "action": "accept"}
    if short == "forget-all":
        return reverse(name), {"confirm": "forget everything"}
    if short == "add":
        return reverse(name), {"text": "Standup is at 9:30.", "kind": "fact"}
    if short == "settings":
        return reverse(name), {"paused": "on"}
    return reverse(name), {}


def _state(people):
    account = people.team.account
    rows = MemoryItem.objects.owned_by(account).order_by("pk")
    return (
        list(rows.values_list("pk", "text", "status", "pinned", "deleted_at", "redacted_at")),
        MemoryRevision.objects.filter(item__owner=account).count(),
        list(MemorySettings.objects.filter(owner=account).values_list("paused", flat=True)),
        AuditEvent.objects.filter(team_id=people.team.pk).count(),
    )


CASES = [(name, method, persona) for (name, method) in ROWS for persona in PERSONAS]


@pytest.mark.parametrize(("name", "method", "persona"), CASES)
def test_each_persona(client, people, targets, name, method, persona):
    statuses = dict(zip(PERSONAS, ROWS[(name, method)], strict=True))
    url, data = _request(people, targets, name, method)
    before = _state(people)
    client.force_login(people.get(persona))
    response = getattr(client, method)(url, data, **HX)
    assert response.status_code == statuses[persona], response.content[:300]
    if statuses[persona] in (403, 404):
        assert _state(people) == before


@pytest.mark.parametrize(("name", "method"), list(ROWS))
def test_an_anonymous_visitor_is_sent_to_sign_in(client, people, targets, name, method):
    url, data = _request(people, targets, name, method)
    before = _state(people)
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")
    assert _state(people) == before


def test_someone_in_no_team_gets_404_and_a_personal_memory_is_no_team_memory(people, targets):
    """Working in personal space, the team pages are 404; in the team, a member's own
    memory is not reachable through them."""
    browser = Client()
    browser.force_login(people.member)
    own = remember(people.member, "Max's own bike lock code is 0000.")
    assert browser.get(reverse("team-memory:detail", args=[own.pk])).status_code == 404
    active_team_switch(user=people.member, team_id=None)
    assert browser.get(reverse("team-memory:index")).status_code == 404
    assert browser.get(reverse("team-memory:detail", args=[targets["item"].pk])).status_code == 404


def test_team_memory_changes_need_the_csrf_token(people, targets):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.owner)
    before = _state(people)
    for name in ("team-memory:forget", "team-memory:pin", "team-memory:edit"):
        url, data = _request(people, targets, name, "post")
        assert strict.post(url, data).status_code == 403
    assert _state(people) == before
