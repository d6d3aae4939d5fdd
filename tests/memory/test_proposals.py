"""Proposals to a team's memory (memory/services/proposals.py): promotion of a personal
memory, a chat passage, an edit of a team memory; provenance, revisions, refusals that
write nothing, and the review inbox accepting an edit (the old text archived)."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import PermissionDenied

from assistant.models import Conversation, Message
from assistant.teams.audit_models import AuditEvent
from assistant.teams.models import Role
from assistant.teams.services import team_create
from memory.models import MemoryItem, MemoryRevision, Source, Status
from memory.services import memory_forget
from memory.services.proposals import (
    EDIT_REASON,
    PASSAGE_REASON,
    PROMOTED_REASON,
    ProposalError,
    memory_edit_propose,
    memory_passage_propose,
    memory_promote,
)
from memory.services.review import memory_accept, memory_reject
from memory.services.validation import MAX_TEXT_CHARS
from tests.assistant.teams.personas import join, person
from tests.factories import remember

pytestmark = pytest.mark.django_db

ANSWER = "Sure. The **VPN** is at vpn.example.org;\n\nuse port 443 from hotel networks."


@pytest.fixture
def team(db):
    owner = person("tess")
    team = team_create(actor=owner, name="Lighthouse")
    join(team, owner, person("ada"), Role.ADMIN)
    join(team, owner, person("max"))
    return team


@pytest.fixture
def max_(team):
    return team.memberships.get(user__username="max").user


@pytest.fixture
def ada(team):
    return team.memberships.get(user__username="ada").user


def counts():
    return MemoryItem.objects.count(), MemoryRevision.objects.count()


def team_items(team):
    return MemoryItem.objects.owned_by(team.account)


def answer_of(user, content=ANSWER) -> Message:
    conversation = Conversation.objects.create(owner=user)
    return Message.objects.create(conversation=conversation, role="assistant", content=content)


def test_promoting_a_personal_memory_makes_a_proposed_team_copy(team, max_):
    mine = remember(max_, "The office wifi password rotates on Mondays.", kind="fact",
                    quote="my private chat words")  # fmt: skip

    proposal = memory_promote(actor=max_, team_owner=team.account, item=mine)

    proposal.refresh_from_db()
    assert proposal.owner == team.account and proposal.status == Status.PROPOSED
    assert proposal.text == mine.text and proposal.kind == mine.kind
    assert proposal.source == Source.PROMOTED
    assert proposal.proposed_by == max_ and proposal.promoted_from == mine
    assert proposal.approved_by is None
    # The personal provenance stays personal: no quote or chat link is copied.
    assert proposal.quote == "" and proposal.source_message is None
    assert np.allclose(proposal.embedding, mine.embedding)
    assert proposal.embedding_model == mine.embedding_model
    (revision,) = proposal.revisions.all()
    assert revision.changed_by == max_ and revision.reason == PROMOTED_REASON
    assert revision.actor == "user" and revision.new_status == Status.PROPOSED
    mine.refresh_from_db()
    assert mine.status == Status.ACTIVE and mine.owner == max_  # the original is untouched


def test_promotion_is_audited_without_the_text(team, max_):
    mine = remember(max_, "The office wifi password rotates on Mondays.")
    proposal = memory_promote(actor=max_, team_owner=team.account, item=mine)

    (event,) = AuditEvent.objects.filter(action="memory.proposed")
    assert event.actor_id == max_.pk and event.target_id == str(proposal.pk)
    assert "wifi" not in str(event.detail) and str(mine.pk) not in str(event.detail)


def test_promoting_someone_elses_memory_is_refused_and_writes_nothing(team, max_, ada):
    theirs = remember(ada, "Ada's dentist is on Friday.")
    before = counts()
    with pytest.raises(PermissionDenied):
        memory_promote(actor=max_, team_owner=team.account, item=theirs)
    assert counts() == before
    assert not AuditEvent.objects.filter(action="memory.proposed").exists()


def test_promoting_a_team_memory_as_if_it_were_ones_own_is_refused(team, max_):
    shared = remember(team.account, "Stand-up is at 9:30.")
    with pytest.raises(PermissionDenied):
        memory_promote(actor=max_, team_owner=team.account, item=shared)


def test_only_active_memories_can_be_promoted(team, max_):
    archived = remember(max_, "Old plan.", status=Status.ARCHIVED)
    forgotten = remember(max_, "Something to forget.")
    memory_forget(item=forgotten, actor="user", changed_by=max_)
    before = counts()
    for item in (archived, forgotten):
        with pytest.raises(ProposalError, match="not active"):
            memory_promote(actor=max_, team_owner=team.account, item=item)
    assert counts() == before


def test_a_pending_promotion_is_not_proposed_twice(team, max_, ada):
    mine = remember(max_, "Deploys freeze on Fridays.")
    first = memory_promote(actor=max_, team_owner=team.account, item=mine)
    with pytest.raises(ProposalError, match="already waiting"):
        memory_promote(actor=max_, team_owner=team.account, item=mine)
    assert team_items(team).count() == 1

    memory_reject(item=first, changed_by=ada)  # turned down: it may be proposed again
    memory_promote(actor=max_, team_owner=team.account, item=mine)
    assert team_items(team).proposed().count() == 1


def test_proposing_to_ones_own_memory_is_refused(max_):
    mine = remember(max_, "Deploys freeze on Fridays.")
    with pytest.raises(ProposalError):
        memory_promote(actor=max_, team_owner=max_, item=mine)


def test_a_chat_passage_is_proposed_with_its_quote(team, max_):
    message = answer_of(max_)

    quote = "  use port 443 from hotel networks. "
    proposal = memory_passage_propose(
        actor=max_, team_owner=team.account, message=message, quote=quote
    )

    proposal.refresh_from_db()
    assert proposal.owner == team.account and proposal.status == Status.PROPOSED
    assert proposal.text == "use port 443 from hotel networks."
    assert proposal.quote == proposal.text and proposal.source_message == message
    assert proposal.source == Source.PROMOTED and proposal.proposed_by == max_
    assert proposal.promoted_from is None and proposal.embedding is not None
    assert proposal.revisions.get().reason == PASSAGE_REASON
    assert AuditEvent.objects.filter(action="memory.proposed", actor_id=max_.pk).count() == 1


def test_a_passage_selected_on_the_rendered_page_matches_the_markdown(team, max_):
    message = answer_of(max_)
    rendered = "Sure. The VPN is at vpn.example.org; use port 443"
    proposal = memory_passage_propose(
        actor=max_, team_owner=team.account, message=message, quote=rendered
    )
    assert proposal.text == rendered


def test_an_empty_quote_proposes_the_whole_message(team, max_):
    message = answer_of(max_)
    proposal = memory_passage_propose(
        actor=max_, team_owner=team.account, message=message, quote=""
    )
    assert proposal.text == ANSWER.strip()


@pytest.mark.parametrize(
    ("quote", "match"),
    [
        ("The VPN is at vpn.evil.example", "not in this message"),
        ("x" * (MAX_TEXT_CHARS + 1), "limit"),
    ],
)
def test_a_passage_not_in_the_message_or_too_long_is_refused(team, max_, quote, match):
    message = answer_of(max_, content=ANSWER + " " + "x" * (MAX_TEXT_CHARS + 5))
    before = counts()
    with pytest.raises(ProposalError, match=match):
        memory_passage_propose(actor=max_, team_owner=team.account, message=message, quote=quote)
    assert counts() == before


def test_the_same_passage_waits_only_once(team, max_):
    message = answer_of(max_)
    memory_passage_propose(actor=max_, team_owner=team.account, message=message, quote="port 443")
    with pytest.raises(ProposalError, match="already waiting"):
        memory_passage_propose(
            actor=max_, team_owner=team.account, message=message, quote="port 443"
        )


def test_an_accepted_edit_proposal_archives_the_old_team_memory(team, max_, ada):
    target = remember(team.account, "Stand-up is at 9:30.", changed_by=ada)

    proposal = memory_edit_propose(actor=max_, item=target, text="Stand-up is at 10:00.")

    proposal.refresh_from_db()
    assert proposal.owner == team.account and proposal.status == Status.PROPOSED
    assert proposal.supersedes == target and proposal.proposed_by == max_
    assert proposal.revisions.get().reason == EDIT_REASON.format(tag=target.tag)
    target.refresh_from_db()
    assert target.status == Status.ACTIVE  # still in use until an admin accepts
    event = AuditEvent.objects.get(action="memory.edit_proposed")
    assert event.actor_id == max_.pk and event.detail["supersedes"] == target.pk
    assert "10:00" not in str(event.detail)

    accepted = memory_accept(item=proposal, changed_by=ada)

    assert accepted.status == Status.ACTIVE and accepted.text == "Stand-up is at 10:00."
    target.refresh_from_db()
    assert target.status == Status.ARCHIVED and target.valid_to is not None
    last = target.revisions.order_by("created_at", "id").last()
    assert last.changed_by == ada and f"superseded by {proposal.tag}" in last.reason
    accepted.refresh_from_db()
    assert accepted.approved_by == ada and accepted.approved_at is not None


def test_edit_proposals_that_make_no_sense_are_refused(team, max_):
    target = remember(team.account, "Stand-up is at 9:30.")
    archived = remember(team.account, "Old rule.", status=Status.ARCHIVED)
    mine = remember(max_, "My own note.")
    before = counts()
    with pytest.raises(ProposalError, match="unchanged"):
        memory_edit_propose(actor=max_, item=target, text="  Stand-up is at 9:30. ")
    with pytest.raises(ProposalError, match="not an active"):
        memory_edit_propose(actor=max_, item=archived, text="New rule.")
    with pytest.raises(ProposalError, match="edit it directly"):
        memory_edit_propose(actor=max_, item=mine, text="Changed.")
    assert counts() == before
    memory_edit_propose(actor=max_, item=target, text="Stand-up is at 10:00.")
    with pytest.raises(ProposalError, match="already waiting"):
        memory_edit_propose(actor=max_, item=target, text="Stand-up is at 10:00.")
