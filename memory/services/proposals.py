"""Proposing memories to a shared (team) memory: a member proposes, an admin reviews.

A proposal is a PROPOSED item owned by the team's account (`team_owner`), with
`proposed_by` naming the member; the review inbox (memory/services/review.py) accepts or
rejects it like any proposal. memory never imports assistant: the caller checks that the
actor belongs to the team and passes the team's account as `team_owner` (or, for an edit,
a team memory as `item`).

- memory_promote: a copy of one of the actor's own active personal memories
  (`promoted_from` keeps the link; it is never shown to anyone else).
- memory_passage_propose: a passage of one of the actor's chat messages.
- memory_edit_propose: a new text for a team memory; a PROPOSED item that `supersedes`
  it, so accepting it archives the old one (superseded_archive_on_accept), with a
  revision on the old one saying so.
- memory_text_propose: a new text the actor writes (through the API or MCP).

Each writes one creation revision naming the actor, and sends memory_changed
(PROPOSED or EDIT_PROPOSED, never the text) in the same transaction.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from memory import events
from memory.embedding import configured_model_name, embed_texts
from memory.models import Actor, Kind, MemoryItem, Source, Status
from memory.services.revisions import revisions_record_created
from memory.services.validation import MAX_TEXT_CHARS, clean_spec, clean_text

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PROMOTED_REASON = "proposed for the team"
PROPOSED_REASON = "written for the team and proposed"
PASSAGE_REASON = "proposed for the team from a chat passage"
EDIT_REASON = "edit of {tag} proposed"


class ProposalError(ValueError):
    """A proposal that cannot be made (the message says why, for the person)."""


def _save(
    *,
    owner: User,
    actor: User,
    spec: dict[str, Any],
    vector: Any,
    reason: str,
    action: str,
    detail: dict[str, Any],
    promoted_from: MemoryItem | None = None,
) -> MemoryItem:
    """Write one PROPOSED item (inside the caller's transaction): the row, its creation
    revision, the memory_changed signal."""
    now = timezone.now()
    cleaned = clean_spec({**spec, "source": Source.PROMOTED, "status": Status.PROPOSED})
    item = MemoryItem(
        owner=owner,
        embedding=vector,
        embedding_model=configured_model_name(),
        created_at=now,
        proposed_by=actor,
        promoted_from=promoted_from,
        **cleaned,
    )
    item.save(force_insert=True)
    revisions_record_created(
        items=[item], actor=Actor.USER, changed_by=actor, reason=reason, created_at=now
    )
    events.memory_changed_send(
        action=action, owner=owner, changed_by=actor, actor=Actor.USER, items=[item],
        detail={"count": 1, **detail},
    )  # fmt: skip
    return item


def _check_team_owner(*, actor: User, team_owner: User) -> None:
    if team_owner is None or team_owner.pk == actor.pk:
        raise ProposalError("Proposals go to a team, not to your own memory.")


def memory_promote(*, actor: User, team_owner: User, item: MemoryItem) -> MemoryItem:
    """Propose a copy of the actor's own active personal memory to the team.

    Raises PermissionDenied for someone else's memory and ProposalError for one that is
    not active, or already waiting for review in this team; nothing is written then."""
    _check_team_owner(actor=actor, team_owner=team_owner)
    if item.owner_id != actor.pk:
        raise PermissionDenied("You can only propose your own memories.")
    with transaction.atomic():
        # Locked: two clicks at once cannot both pass the duplicate check.
        source = MemoryItem.objects.select_for_update().filter(pk=item.pk, owner=actor).first()
        if source is None:
            raise PermissionDenied("You can only propose your own memories.")
        if source.is_forgotten or source.status != Status.ACTIVE:
            raise ProposalError(f"{source.tag} is not active; only active ones can be proposed.")
        waiting = MemoryItem.objects.owned_by(team_owner).proposed().filter(promoted_from=source)
        if waiting.exists():
            raise ProposalError(f"{source.tag} is already waiting for review in the team.")
        vector = source.embedding
        if vector is None or source.embedding_model != configured_model_name():
            vector = embed_texts([source.text])[0]
        spec = {"text": source.text, "kind": source.kind, "occurred_at": source.occurred_at}
        return _save(
            owner=team_owner,
            actor=actor,
            spec=spec,
            vector=vector,
            reason=PROMOTED_REASON,
            action=events.PROPOSED,
            detail={"via": "promotion"},
            promoted_from=source,
        )


_LOOSE = re.compile(r"[\s*_`#>~|]+")


def _loose(text: str) -> str:
    """Text compared without whitespace and markdown marks: a passage selected on the
    rendered page lacks the ** and # of the stored answer."""
    return _LOOSE.sub(" ", text).strip()


def memory_passage_propose(
    *, actor: User, team_owner: User, message: Any, quote: str
) -> MemoryItem:
    """Propose a passage of a chat message (the caller checked that the message is the
    actor's) to the team. An empty `quote` proposes the whole message.

    Raises ProposalError when the quote is not in the message, is too long, or the same
    passage is already waiting for review in this team."""
    _check_team_owner(actor=actor, team_owner=team_owner)
    content = (message.content or "").strip()
    quote = (quote or "").strip() or content
    if not quote:
        raise ProposalError("This message is empty; there is nothing to propose.")
    if len(quote) > MAX_TEXT_CHARS:
        raise ProposalError(
            f"The passage is {len(quote)} characters; the limit is {MAX_TEXT_CHARS}. "
            "Select a shorter part."
        )
    if quote not in content and _loose(quote) not in _loose(content):
        raise ProposalError("The passage is not in this message; select text of the message.")
    text = clean_text(quote)
    vector = embed_texts([text])[0]  # before the transaction: no locks held meanwhile
    with transaction.atomic():
        # The message row is locked so that two clicks cannot both pass the duplicate check.
        type(message)._default_manager.select_for_update().filter(pk=message.pk).first()
        waiting = MemoryItem.objects.owned_by(team_owner).proposed()
        if waiting.filter(source_message_id=message.pk, quote=quote).exists():
            raise ProposalError("This passage is already waiting for review in the team.")
        spec = {
            "text": text,
            "kind": Kind.FACT,
            "source_message": message,
            "quote": quote,
            "occurred_at": getattr(message, "created_at", None),
        }
        return _save(
            owner=team_owner,
            actor=actor,
            spec=spec,
            vector=vector,
            reason=PASSAGE_REASON,
            action=events.PROPOSED,
            detail={"via": "passage"},
        )


def memory_edit_propose(*, actor: User, item: MemoryItem, text: str) -> MemoryItem:
    """Propose a new text for a team memory (the caller checked the actor's membership):
    a PROPOSED item of the same owner that supersedes `item`. Accepting it archives `item`.

    Raises ProposalError for a memory that is not active, an unchanged text, or the same
    edit already waiting for review."""
    if item.owner_id == actor.pk:
        raise ProposalError("This is your own memory: edit it directly.")
    text = clean_text(text)
    vector = embed_texts([text])[0]
    with transaction.atomic():
        target = MemoryItem.objects.select_for_update().get(pk=item.pk)
        if target.is_forgotten or target.status != Status.ACTIVE:
            raise ProposalError(f"{target.tag} is not an active memory; edits cannot be proposed.")
        if target.text == text:
            raise ProposalError("The text is unchanged; there is no edit to propose.")
        waiting = MemoryItem.objects.owned_by(target.owner).proposed()
        if waiting.filter(supersedes=target, text=text).exists():
            raise ProposalError(f"This edit of {target.tag} is already waiting for review.")
        spec = {
            "text": text,
            "kind": target.kind,
            "occurred_at": target.occurred_at,
            "valid_from": target.valid_from,
            "supersedes": target,
        }
        return _save(
            owner=target.owner,
            actor=actor,
            spec=spec,
            vector=vector,
            reason=EDIT_REASON.format(tag=target.tag),
            action=events.EDIT_PROPOSED,
            detail={"supersedes": target.pk},
        )


def memory_text_propose(*, actor: User, team_owner: User, text: str, kind: str) -> MemoryItem:
    """Propose a new memory, written by the actor (an API or MCP client writing on their
    behalf), to the team: a PROPOSED item of the team's account for its admins to review.
    The caller checked the membership. Raises MemoryFieldError for a bad text or kind."""
    _check_team_owner(actor=actor, team_owner=team_owner)
    text = clean_text(text)
    vector = embed_texts([text])[0]  # before the transaction: no locks held meanwhile
    with transaction.atomic():
        return _save(
            owner=team_owner,
            actor=actor,
            spec={"text": text, "kind": kind},
            vector=vector,
            reason=PROPOSED_REASON,
            action=events.PROPOSED,
            detail={"via": "text"},
        )
