"""The memory page: every URL with the owner and an outsider, and each action's effect."""

from __future__ import annotations

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from memory.models import MemoryItem, MemorySettings
from memory.services import REDACTED, memory_export, memory_update
from tests.factories import remember

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def item(owner):
    return remember(owner, "Olivia keeps bees on her allotment.", kind="fact")


@pytest.fixture
def outsider_browser(outsider) -> Client:
    browser = Client()
    browser.force_login(outsider)
    return browser


ITEM_GETS = ["detail", "item", "edit", "history", "accept"]
ITEM_POSTS = [
    "edit",
    "pin",
    "wrong",
    "reactivate",
    "forget",
    "unforget",
    "forget-permanently",
    "accept",
    "reject",
]


def test_every_page_requires_login(client, item):
    for name in ["index", "inbox", "export"]:
        response = client.get(reverse(f"memory:{name}"))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    for name in ITEM_GETS:
        response = client.get(reverse(f"memory:{name}", args=[item.pk]))
        assert response.status_code == 302, name
    for name in ["add", "settings", "import", "forget-all", "review-bulk"]:
        assert client.post(reverse(f"memory:{name}")).status_code == 302, name


def test_outsider_gets_404_for_every_item_url(outsider_browser, item):
    for name in ITEM_GETS:
        response = outsider_browser.get(reverse(f"memory:{name}", args=[item.pk]), **HX)
        assert response.status_code == 404, name
    for name in ITEM_POSTS:
        response = outsider_browser.post(
            reverse(f"memory:{name}", args=[item.pk]), {"text": "mine now"}, **HX
        )
        assert response.status_code == 404, name
    revision = item.revisions.get()
    url = reverse("memory:restore", args=[item.pk, revision.pk])
    assert outsider_browser.post(url, **HX).status_code == 404
    item.refresh_from_db()
    assert (item.text, item.status, item.deleted_at) == (
        "Olivia keeps bees on her allotment.",
        "active",
        None,
    )


def test_outsider_sees_none_of_the_owners_memories(outsider_browser, item):
    page = outsider_browser.get(reverse("memory:index"))
    assert page.status_code == 200
    assert b"bees" not in page.content
    assert b"Nothing remembered yet." in page.content
    search = outsider_browser.get(reverse("memory:index"), {"q": "bees allotment"})
    assert b"Olivia keeps" not in search.content
    assert b"Nothing remembered yet." in search.content
    export = json.loads(outsider_browser.get(reverse("memory:export")).content)
    assert export["items"] == []


def test_empty_page_reads_like_a_product(owner_client):
    page = owner_client.get(reverse("memory:index"))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Nothing remembered yet." in body
    assert "Tell the assistant about yourself, or add a memory here." in body
    assert "← Chat" in body and "<h1" in body and "Memory" in body
    assert 'id="inbox"' in body and "hidden" in body.split('id="inbox"')[1][:200]


def test_list_shows_items_newest_first_with_provenance(owner_client, owner):
    from assistant.models import Conversation, Message

    conversation = Conversation.objects.create(owner=owner)
    message = Message.objects.create(conversation=conversation, role="user", content="I'm vegan")
    remember(owner, "Older memory about tea.")
    remember(
        owner,
        "Olivia is vegan.",
        kind="preference",
        source="extracted",
        source_message=message,
        quote="I'm vegan",
        confidence=0.8,
    )
    body = owner_client.get(reverse("memory:index")).content.decode()
    assert body.index("Olivia is vegan.") < body.index("Older memory about tea.")
    assert f"/c/{conversation.pk}/#msg-{message.pk}" in body
    assert "I&#x27;m vegan" in body
    assert "Confidence 80%" in body
    assert "Extracted by the assistant" in body
    assert "Not used yet" in body


def test_memory_text_is_escaped(owner_client, owner):
    remember(owner, "<script>alert('x')</script> likes <b>bold</b>")
    body = owner_client.get(reverse("memory:index")).content.decode()
    assert "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body


def test_add_writes_a_user_revision(owner_client, owner):
    response = owner_client.post(
        reverse("memory:add"), {"text": "  I prefer tea to coffee.  ", "kind": "preference"}, **HX
    )
    assert response.status_code == 200
    assert "memory-list-changed" in response["HX-Trigger"]
    item = MemoryItem.objects.get(owner=owner)
    assert (item.text, item.kind, item.source, item.status) == (
        "I prefer tea to coffee.",
        "preference",
        "stated",
        "active",
    )
    assert item.embedding is not None
    revision = item.revisions.get()
    assert (revision.actor, revision.changed_by, revision.new_text) == (
        "user",
        owner,
        "I prefer tea to coffee.",
    )
    assert b"Remembered." in response.content


@pytest.mark.parametrize(
    ("text", "error"),
    [("   ", "Write what should be remembered."), ("x" * 10_001, "a memory can hold 10,000")],
)
def test_add_shows_validation_errors_inline(owner_client, owner, text, error):
    response = owner_client.post(reverse("memory:add"), {"text": text, "kind": "fact"}, **HX)
    assert response.status_code == 200
    assert error in response.content.decode()
    assert not MemoryItem.objects.filter(owner=owner).exists()
    bad_kind = owner_client.post(reverse("memory:add"), {"text": "ok", "kind": "gossip"}, **HX)
    assert bad_kind.status_code == 200 and b"gossip" in bad_kind.content


def test_edit_form_then_save_writes_a_revision(owner_client, owner, item):
    form = owner_client.get(reverse("memory:edit", args=[item.pk]), **HX)
    assert b"<textarea" in form.content and b"Olivia keeps bees" in form.content
    response = owner_client.post(
        reverse("memory:edit", args=[item.pk]), {"text": "Olivia keeps three hives."}, **HX
    )
    assert response.status_code == 200
    assert b"Olivia keeps three hives." in response.content
    item.refresh_from_db()
    assert item.text == "Olivia keeps three hives."
    last = item.revisions.order_by("-id").first()
    assert (last.old_text, last.new_text, last.actor, last.changed_by) == (
        "Olivia keeps bees on her allotment.",
        "Olivia keeps three hives.",
        "user",
        owner,
    )
    empty = owner_client.post(reverse("memory:edit", args=[item.pk]), {"text": ""}, **HX)
    assert b"Write what should be remembered." in empty.content
    assert item.revisions.count() == 2


def test_forget_then_undo(owner_client, item):
    response = owner_client.post(reverse("memory:forget", args=[item.pk]), **HX)
    body = response.content.decode()
    assert "Forgotten." in body and "Undo" in body
    assert reverse("memory:unforget", args=[item.pk]) in body
    item.refresh_from_db()
    assert item.is_forgotten and not item.is_redacted
    assert b"bees" not in owner_client.get(reverse("memory:index")).content
    forgotten = owner_client.get(reverse("memory:index"), {"status": "forgotten"})
    assert b"bees" in forgotten.content

    undo = owner_client.post(reverse("memory:unforget", args=[item.pk]), **HX)
    assert b"Olivia keeps bees" in undo.content and b"Forgotten." not in undo.content
    item.refresh_from_db()
    assert (item.deleted_at, item.status) == (None, "active")


def test_forget_permanently_erases_text_vector_and_history(owner_client, owner, item):
    memory_update(item=item, text="Olivia keeps two hives.", actor="user")
    response = owner_client.post(reverse("memory:forget-permanently", args=[item.pk]), **HX)
    assert b"Forgotten for good." in response.content
    item.refresh_from_db()
    assert item.is_redacted and item.text == "" and item.embedding is None
    revisions = list(item.revisions.values_list("old_text", "new_text", "reason"))
    # created and edited: every text and reason redacted; then the erasure itself
    assert revisions == [(REDACTED, REDACTED, REDACTED)] * 2 + [
        (REDACTED, REDACTED, "forgotten permanently")
    ]
    detail = owner_client.get(reverse("memory:detail", args=[item.pk]))
    assert detail.status_code == 200
    assert b"Forgotten for good." in detail.content and b"hives" not in detail.content


def test_pin_and_unpin(owner_client, item):
    pinned = owner_client.post(reverse("memory:pin", args=[item.pk]), {"pinned": "true"}, **HX)
    assert b"Unpin" in pinned.content
    item.refresh_from_db()
    assert item.pinned
    owner_client.post(reverse("memory:pin", args=[item.pk]), {"pinned": "false"}, **HX)
    item.refresh_from_db()
    assert not item.pinned
    assert list(item.revisions.values_list("reason", flat=True)) == [
        "created",
        "pinned",
        "unpinned",
    ]


def test_this_is_wrong_archives_with_reason_and_can_be_undone(owner_client, item):
    response = owner_client.post(reverse("memory:wrong", args=[item.pk]), **HX)
    assert b"Archived" in response.content and b"Use again" in response.content
    item.refresh_from_db()
    assert item.status == "archived"
    assert item.revisions.order_by("-id").first().reason == "Marked wrong by the user"
    owner_client.post(reverse("memory:reactivate", args=[item.pk]), **HX)
    item.refresh_from_db()
    assert item.status == "active"


def test_history_lists_changes_and_restore_brings_old_text_back(owner_client, owner, item):
    memory_update(item=item, text="Olivia gave up beekeeping.", actor="assistant")
    history = owner_client.get(reverse("memory:history", args=[item.pk]), **HX)
    body = history.content.decode()
    assert "Olivia keeps bees on her allotment." in body and "Olivia gave up beekeeping." in body
    assert "Assistant" in body
    first = item.revisions.order_by("id").first()
    restore = owner_client.post(reverse("memory:restore", args=[item.pk, first.pk]), **HX)
    assert b"Restored that version." in restore.content
    item.refresh_from_db()
    assert item.text == "Olivia keeps bees on her allotment."
    last = item.revisions.order_by("-id").first()
    assert (last.actor, last.changed_by, last.reason) == (
        "user",
        owner,
        f"restored revision {first.pk}",
    )


def test_detail_page_has_the_same_actions(owner_client, item):
    page = owner_client.get(reverse("memory:detail", args=[item.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Olivia keeps bees" in body and item.tag in body
    for name in ["edit", "pin", "wrong", "forget", "forget-permanently"]:
        assert reverse(f"memory:{name}", args=[item.pk]) in body
    assert "history-list" in body  # history open on the detail page
    assert '"view": "detail"' in body
    # An action from the detail page keeps its history open.
    pinned = owner_client.post(reverse("memory:pin", args=[item.pk]), {"view": "detail"}, **HX)
    assert b"history-list" in pinned.content
    # Without htmx, actions redirect back to where they came from.
    plain = owner_client.post(reverse("memory:pin", args=[item.pk]), {"view": "detail"})
    assert plain["Location"] == reverse("memory:detail", args=[item.pk])
    assert owner_client.get(reverse("memory:detail", args=[999_999])).status_code == 404


def test_forget_everything_needs_the_typed_phrase(owner_client, owner, outsider, item):
    remember(owner, "Second memory.")
    theirs = remember(outsider, "Mallory's secret.")
    wrong = owner_client.post(reverse("memory:forget-all"), {"confirm": "yes"}, **HX)
    assert "Type “forget everything” to confirm." in wrong.content.decode()
    assert MemoryItem.objects.owned_by(owner).visible().count() == 2

    done = owner_client.post(reverse("memory:forget-all"), {"confirm": "Forget everything"}, **HX)
    assert b"2 memories forgotten." in done.content
    assert "memory-list-changed" in done["HX-Trigger"]
    assert MemoryItem.objects.owned_by(owner).visible().count() == 0
    assert MemoryItem.objects.owned_by(owner).forgotten().count() == 2

    erased = owner_client.post(
        reverse("memory:forget-all"), {"confirm": "forget everything", "permanently": "on"}, **HX
    )
    assert b"2 memories erased for good." in erased.content
    assert set(MemoryItem.objects.owned_by(owner).values_list("text", flat=True)) == {""}
    theirs.refresh_from_db()
    assert not theirs.is_forgotten and theirs.text == "Mallory's secret."


def test_export_downloads_the_owners_items_as_json(owner_client, owner, outsider, item):
    remember(outsider, "Mallory's secret.")
    response = owner_client.get(reverse("memory:export"))
    assert response.status_code == 200
    today = timezone.localdate().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="memory-export-{today}.json"'
    data = json.loads(response.content)
    assert data["format"] == "recall-assistant/memory"
    assert [record["text"] for record in data["items"]] == ["Olivia keeps bees on her allotment."]


def _upload(data, name="memory.json"):
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    upload = io.BytesIO(raw)
    upload.name = name
    return upload


def test_import_adds_memories_and_says_how_many(owner_client, owner, outsider):
    remember(outsider, "Exported by someone else.")
    remember(outsider, "And another.")
    data = memory_export(owner=outsider)
    response = owner_client.post(reverse("memory:import"), {"file": _upload(data)}, **HX)
    assert b"Imported 2 memories." in response.content
    assert "memory-list-changed" in response["HX-Trigger"]
    texts = set(MemoryItem.objects.owned_by(owner).values_list("text", flat=True))
    assert texts == {"Exported by someone else.", "And another."}


def test_malformed_import_changes_nothing_and_names_the_record(owner_client, owner, item):
    data = memory_export(owner=owner)
    data["items"].append({"text": "fine"})
    data["items"].append({"text": "bad kind", "kind": "gossip"})
    response = owner_client.post(reverse("memory:import"), {"file": _upload(data)}, **HX)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported." in body and "items[2].kind" in body
    assert MemoryItem.objects.owned_by(owner).count() == 1

    not_json = owner_client.post(reverse("memory:import"), {"file": _upload(b"{nope")}, **HX)
    assert b"not valid JSON (line 1, column 2" in not_json.content
    missing = owner_client.post(reverse("memory:import"), {}, **HX)
    assert b"Choose a memory export" in missing.content
    assert MemoryItem.objects.owned_by(owner).count() == 1


def test_switches_flip_the_memory_settings(owner_client, owner):
    response = owner_client.post(reverse("memory:settings"), {"paused": "on"}, **HX)
    assert response.status_code == 200
    assert b"Memory is paused." in response.content
    settings = MemorySettings.objects.get(owner=owner)
    assert (settings.paused, settings.auto_accept_extracted) == (True, False)
    owner_client.post(reverse("memory:settings"), {"auto_accept_extracted": "on"}, **HX)
    settings.refresh_from_db()
    assert (settings.paused, settings.auto_accept_extracted) == (False, True)


def test_search_uses_the_retriever_and_shows_signals(owner_client, owner, outsider, item):
    remember(owner, "The dentist appointment is on Friday.", kind="plan")
    remember(owner, "Favourite colour is green.", kind="preference")
    remember(outsider, "Mallory keeps bees too.")
    response = owner_client.get(
        reverse("memory:index"), {"q": "bees"}, HTTP_HX_TARGET="memory-results", **HX
    )
    body = response.content.decode()
    assert 'id="memory-results"' in body and "<html" not in body
    assert body.index("Olivia keeps bees") < body.index("dentist")
    assert "Mallory" not in body
    assert "Matched by" in body and "words" in body and "meaning" in body
    only_plans = owner_client.get(reverse("memory:index"), {"q": "bees", "kind": "plan"})
    assert b"Olivia keeps bees" not in only_plans.content


def test_filters_and_pagination(owner_client, owner):
    for n in range(23):
        remember(owner, f"Memory number {n}.")
    remember(owner, "A plan.", kind="plan", source="imported")
    page1 = owner_client.get(reverse("memory:index")).content.decode()
    assert "Page 1 of 2" in page1 and "Memory number 22." in page1
    assert "Memory number 2." not in page1
    page2 = owner_client.get(reverse("memory:index"), {"page": 2}).content.decode()
    assert "Memory number 2." in page2
    plans = owner_client.get(reverse("memory:index"), {"kind": "plan"}).content.decode()
    assert "A plan." in plans and "Memory number" not in plans
    imported = owner_client.get(reverse("memory:index"), {"source": "imported"}).content
    assert b"A plan." in imported and b"Memory number" not in imported
    nothing = owner_client.get(reverse("memory:index"), {"status": "archived"}).content
    assert b"No memories match these filters." in nothing
    junk = owner_client.get(reverse("memory:index"), {"kind": "nope", "page": "x"})
    assert junk.status_code == 200
