"""'Your activity' (/account/activity/): only ever the signed-in user's own events; and the
Django admin, which never shows an incognito chat."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from assistant.models import Conversation, Message
from assistant.teams.audit_models import AuditEvent
from memory.services import memory_create, memory_pin
from tests.assistant.teams.personas import person

pytestmark = pytest.mark.django_db

# Every /account/ URL (the personal pages): name -> method. Generated check below. The API
# token pages' rows for each persona are in tests/assistant/api/test_tokens_permissions.py.
ACCOUNT_PAGES = {
    "account": "get",
    "account-activity": "get",
    "account-activity-csv": "get",
    "tokens:list": "get",
    "tokens:create": "post",
    "tokens:revoke": "post",
    "tokens:team": "get",
    "tokens:team-revoke": "post",
}
ACCOUNT_ARGS = {"tokens:revoke": [1], "tokens:team": [1], "tokens:team-revoke": [1, 1]}


def _account_names(patterns, route: str = "", space: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        full = route + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{space}{entry.namespace}:" if entry.namespace else space
            names |= _account_names(entry.url_patterns, full, inner)
        elif isinstance(entry, URLPattern) and entry.name and full.startswith("account/"):
            names.add(space + entry.name)
    return names


def test_every_account_url_has_a_row():
    assert _account_names(get_resolver().url_patterns) == set(ACCOUNT_PAGES)


def _body(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


@pytest.fixture
def two(db):
    """Ana with a pinned memory, Bea with one of her own."""
    ana, bea = person("ana"), person("bea")
    for user, text in ((ana, "Ana's tea."), (bea, "Bea's coffee.")):
        item = memory_create(owner=user, text=text, kind="fact", source="stated",
                             actor="user", changed_by=user)  # fmt: skip
        memory_pin(item=item, actor="user", changed_by=user)
    return ana, bea


@pytest.mark.parametrize("name", sorted(ACCOUNT_PAGES))
def test_an_anonymous_visitor_is_sent_to_sign_in(client, two, name):
    url = reverse(name, args=ACCOUNT_ARGS.get(name, []))
    response = getattr(client, ACCOUNT_PAGES[name])(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse(django_settings.LOGIN_URL) + "?next=")


ROW = re.compile(r"<td>([^<]*)</td>\s*<td><code>[^<]*</code></td>\s*<td>\w+ #(\d+)<")


def _listed(response) -> set[tuple[str, str]]:
    """(actor name, target id) of every event listed, from the page or the CSV."""
    body = _body(response)
    if response.streaming:
        rows = list(csv.DictReader(io.StringIO(body)))
        assert all(row["owner_id"] for row in rows)  # personal events name their owner
        return {(row["actor"], row["target_id"]) for row in rows}
    return set(
        re.findall(r"<td>([^<]*)</td>\s*<td><code>[^<]*</code></td>\s*<td>\w+ #(\d+)<", body)
    )


@pytest.mark.parametrize("name", ["account-activity", "account-activity-csv"])
@pytest.mark.parametrize("who", ["ana", "bea"])
def test_each_user_sees_only_their_own_events(client, two, name, who):
    me = {user.username: user for user in two}[who]
    client.force_login(me)
    response = client.get(reverse(name))
    assert response.status_code == 200
    mine = {(who, e.target_id) for e in AuditEvent.objects.filter(owner_id=me.pk)}
    assert len(mine) == 1 and AuditEvent.objects.filter(owner_id=me.pk).count() == 2
    assert _listed(response) == mine
    # Asking for the other's events by the person filter shows nothing.
    other = next(user for user in two if user != me)
    assert _listed(client.get(reverse(name), {"actor": other.pk})) == set()


def test_the_page_filters_and_shows_the_users_team_actions(client, people):
    memory_create(owner=people.member, text="Mine.", kind="fact", source="stated",
                  actor="user", changed_by=people.member)  # fmt: skip
    client.force_login(people.member)
    page = _body(client.get(reverse("account-activity")))
    assert "memory.created" in page and "member.joined" in page and "Lighthouse" in page
    assert "tess-owner" not in page.split("<tbody>")[1]  # the owner's own actions: not here
    only = _body(client.get(reverse("account-activity"), {"action": "memory.created"}))
    assert only.count('class="audit-row"') == 1


def test_the_admin_never_shows_incognito_chats(client, two):
    ana, _ = two
    admin_user = get_user_model().objects.create_superuser("root", "root@example.org", "x")
    client.force_login(admin_user)
    open_chat = Conversation.objects.create(owner=ana, title="Groceries")
    hidden = Conversation.objects.create(owner=ana, title="Secret plans", incognito=True)
    Message.objects.create(conversation=open_chat, role="user", content="buy milk")
    secret = Message.objects.create(conversation=hidden, role="user", content="the surprise party")

    listing = _body(client.get(reverse("admin:assistant_conversation_changelist")))
    assert "Groceries" in listing and "Secret plans" not in listing
    messages = _body(client.get(reverse("admin:assistant_message_changelist"), {"q": "party"}))
    assert reverse("admin:assistant_message_change", args=[secret.pk]) not in messages
    assert "0 results" in messages
    for url in (
        reverse("admin:assistant_conversation_change", args=[hidden.pk]),
        reverse("admin:assistant_message_change", args=[secret.pk]),
    ):
        response = client.get(url, follow=True)
        assert "surprise" not in _body(response) and "Secret plans" not in _body(response)
    shown = _body(client.get(reverse("admin:assistant_conversation_change", args=[open_chat.pk])))
    assert "buy milk" in shown and 'name="title"' not in shown  # read-only
