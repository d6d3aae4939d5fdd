"""The review inbox: accept, edit-then-accept, reject, and the same in bulk."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from memory.models import MemoryItem
from memory.services import memory_create, memory_forget
from memory.services.review import (
    MemoryReviewError,
    memory_accept,
    memory_mark_wrong,
    memory_reject,
    memory_review_bulk,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
FROM_INBOX = {"view": "inbox"}


def propose(owner, text: str) -> MemoryItem:
    return memory_create(
        owner=owner,
        text=text,
        kind="preference",
        source="extracted",
        actor="assistant",
        status="proposed",
        quote=text,
        confidence=0.7,
    )


@pytest.fixture
def proposal(owner):
    return propose(owner, "Olivia prefers window seats.")


def reasons(item: MemoryItem) -> list[str]:
    return list(item.revisions.order_by("id").values_list("reason", flat=True))


# --- services ---------------------------------------------------------------------


def test_accept_makes_a_proposal_live(owner, proposal):
    item = memory_accept(item=proposal, changed_by=owner)
    assert item.status == "active"
    last = item.revisions.order_by("-id").first()
    assert (last.old_status, last.new_status, last.actor, last.changed_by) == (
        "proposed",
        "active",
        "user",
        owner,
    )


def test_edit_then_accept_writes_two_revisions(owner, proposal):
    item = memory_accept(item=proposal, changed_by=owner, text="Olivia prefers aisle seats.")
    assert (item.text, item.status) == ("Olivia prefers aisle seats.", "active")
    assert reasons(item) == ["created", "edited in review", "accepted in review"]


def test_reject_archives_and_keeps_the_history(owner, proposal):
    item = memory_reject(item=proposal, changed_by=owner)
    assert item.status == "archived" and not item.is_forgotten
    assert reasons(item)[-1] == "rejected in review"


def test_only_proposals_can_be_reviewed(owner, proposal):
    memory_accept(item=proposal, changed_by=owner)
    proposal.refresh_from_db()
    with pytest.raises(MemoryReviewError):
        memory_accept(item=proposal, changed_by=owner)
    with pytest.raises(MemoryReviewError):
        memory_reject(item=proposal, changed_by=owner)


def test_bulk_review_skips_other_owners_and_non_proposals(owner, outsider):
    mine = [propose(owner, f"Proposal {n}") for n in range(3)]
    theirs = propose(outsider, "Mallory's proposal")
    accepted = memory_accept(item=propose(owner, "Already accepted"), changed_by=owner)
    ids = [item.pk for item in mine[:2]] + [theirs.pk, accepted.pk]
    assert memory_review_bulk(owner=owner, ids=ids, accept=True, changed_by=owner) == 2
    statuses = {item.text: item.status for item in MemoryItem.objects.all()}
    assert statuses == {
        "Proposal 0": "active",
        "Proposal 1": "active",
        "Proposal 2": "proposed",
        "Mallory's proposal": "proposed",
        "Already accepted": "active",
    }
    assert memory_review_bulk(owner=owner, ids=[mine[2].pk], accept=False) == 1
    mine[2].refresh_from_db()
    assert mine[2].status == "archived"


def test_mark_wrong_archives_with_the_reason(owner):
    item = memory_create(owner=owner, text="Wrong fact", kind="fact", source="stated", actor="user")
    item = memory_mark_wrong(item=item, changed_by=owner)
    assert item.status == "archived"
    assert reasons(item)[-1] == "Marked wrong by the user"


# --- views ------------------------------------------------------------------------


def test_inbox_shows_proposals_on_the_page(owner_client, proposal):
    page = owner_client.get(reverse("memory:index")).content.decode()
    inbox = page.split('id="inbox"')[1].split("</section>")[0]
    assert "Review inbox" in inbox and "Olivia prefers window seats." in inbox
    assert reverse("memory:accept", args=[proposal.pk]) in inbox
    assert reverse("memory:reject", args=[proposal.pk]) in inbox
    # Proposals wait in the inbox, not in the list of memories.
    listing = page.split('id="memory-results"')[1]
    assert "Olivia prefers window seats." not in listing
    partial = owner_client.get(reverse("memory:inbox"), **HX).content.decode()
    assert partial.lstrip().startswith('<section id="inbox"')


def test_accept_from_the_inbox_refreshes_inbox_and_list(owner_client, proposal):
    response = owner_client.post(reverse("memory:accept", args=[proposal.pk]), FROM_INBOX, **HX)
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#inbox"
    assert "memory-list-changed" in response["HX-Trigger"]
    body = response.content.decode()
    assert "Accepted." in body and "All caught up." in body
    proposal.refresh_from_db()
    assert proposal.status == "active"


def test_edit_then_accept_from_the_inbox(owner_client, owner, proposal):
    form = owner_client.get(reverse("memory:accept", args=[proposal.pk]), FROM_INBOX, **HX)
    assert b"Save &amp; accept" in form.content and b"window seats" in form.content
    empty = owner_client.post(
        reverse("memory:accept", args=[proposal.pk]), {**FROM_INBOX, "text": " "}, **HX
    )
    assert b"Write what should be remembered." in empty.content
    assert empty["HX-Retarget"] == f"#memory-{proposal.pk}"
    proposal.refresh_from_db()
    assert proposal.status == "proposed"

    owner_client.post(
        reverse("memory:accept", args=[proposal.pk]),
        {**FROM_INBOX, "text": "Olivia prefers aisle seats on long flights."},
        **HX,
    )
    proposal.refresh_from_db()
    assert (proposal.text, proposal.status) == (
        "Olivia prefers aisle seats on long flights.",
        "active",
    )
    edit = proposal.revisions.get(reason="edited in review")
    assert (edit.old_text, edit.actor, edit.changed_by) == (
        "Olivia prefers window seats.",
        "user",
        owner,
    )


def test_reject_from_the_detail_page_returns_the_card(owner_client, proposal):
    response = owner_client.post(
        reverse("memory:reject", args=[proposal.pk]), {"view": "detail"}, **HX
    )
    body = response.content.decode()
    assert "HX-Retarget" not in response
    assert f'id="memory-{proposal.pk}"' in body and "Archived" in body
    assert "memory-inbox-changed" in response["HX-Trigger"]
    proposal.refresh_from_db()
    assert proposal.status == "archived"


def test_reviewing_twice_shows_a_clear_error(owner_client, proposal):
    owner_client.post(reverse("memory:accept", args=[proposal.pk]), FROM_INBOX, **HX)
    again = owner_client.post(reverse("memory:reject", args=[proposal.pk]), FROM_INBOX, **HX)
    assert again.status_code == 200
    assert b"is no longer waiting for review." in again.content
    proposal.refresh_from_db()
    assert proposal.status == "active"


def test_bulk_accept_and_reject(owner_client, owner, outsider):
    first, second, third = (propose(owner, f"Proposal {n}") for n in range(3))
    theirs = propose(outsider, "Mallory's proposal")
    response = owner_client.post(
        reverse("memory:review-bulk"),
        {"ids": [first.pk, second.pk, theirs.pk], "action": "accept", **FROM_INBOX},
        **HX,
    )
    assert b"Accepted 2 memories." in response.content
    assert "memory-list-changed" in response["HX-Trigger"]
    response = owner_client.post(
        reverse("memory:review-bulk"), {"ids": [third.pk], "action": "reject"}, **HX
    )
    assert b"Rejected 1 memory." in response.content
    statuses = dict(MemoryItem.objects.values_list("text", "status"))
    assert statuses == {
        "Proposal 0": "active",
        "Proposal 1": "active",
        "Proposal 2": "archived",
        "Mallory's proposal": "proposed",
    }


def test_bulk_without_a_selection_says_so(owner_client, proposal):
    response = owner_client.post(reverse("memory:review-bulk"), {"action": "accept"}, **HX)
    assert b"Select at least one memory first." in response.content
    proposal.refresh_from_db()
    assert proposal.status == "proposed"


def test_outsider_cannot_review(outsider, proposal):
    browser = Client()
    browser.force_login(outsider)
    for name in ["accept", "reject"]:
        response = browser.post(reverse(f"memory:{name}", args=[proposal.pk]), **HX)
        assert response.status_code == 404
    browser.post(reverse("memory:review-bulk"), {"ids": [proposal.pk], "action": "accept"}, **HX)
    proposal.refresh_from_db()
    assert proposal.status == "proposed"
    assert b"window seats" not in browser.get(reverse("memory:index")).content


def test_forgotten_proposal_leaves_the_inbox(owner_client, owner, proposal):
    response = owner_client.post(reverse("memory:forget", args=[proposal.pk]), FROM_INBOX, **HX)
    assert "memory-inbox-changed" in response["HX-Trigger"]
    memory_forget(item=propose(owner, "Another"), actor="user")
    inbox = owner_client.get(reverse("memory:inbox"), **HX).content.decode()
    assert "window seats" not in inbox and "Another" not in inbox
