"""What the REST API reads and writes (pydantic schemas, shown in the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from memory.models import Kind, MemoryItem, MemoryRevision
from memory.services.validation import MAX_TEXT_CHARS

KindName = Literal[tuple(Kind.values)]  # type: ignore[valid-type]
ListStatus = Literal["active", "proposed", "archived", "forgotten"]


class ErrorBody(Schema):
    type: str = Field(examples=["not_found_error"])
    code: str = Field(examples=["not_found"])
    message: str = Field(examples=["No such memory."])


class Error(Schema):
    """Every error has this shape (the OpenAI one), whatever the status."""

    error: ErrorBody


class Page(Schema):
    total: int
    limit: int
    offset: int
    next: str | None = Field(None, description="The next page's URL; null on the last page.")


# -- memories ------------------------------------------------------------------------------


class MemoryOut(Schema):
    id: int
    tag: str = Field(description="How answers cite it, e.g. [m:42].")
    text: str
    kind: str
    status: str
    source: str
    pinned: bool
    forgotten: bool
    quote: str
    occurred_at: datetime | None
    valid_from: datetime | None
    valid_to: datetime | None
    supersedes_id: int | None
    proposed_by: str | None
    created_at: datetime
    updated_at: datetime
    space: Literal["personal", "team"]

    @staticmethod
    def of(item: MemoryItem, *, space: str = "personal") -> dict[str, Any]:
        redacted = item.is_redacted
        return {
            "id": item.pk,
            "tag": item.tag,
            "text": "" if redacted else item.text,
            "kind": item.kind,
            "status": item.status,
            "source": item.source,
            "pinned": item.pinned,
            "forgotten": item.is_forgotten,
            "quote": "" if redacted else item.quote,
            "occurred_at": item.occurred_at,
            "valid_from": item.valid_from,
            "valid_to": item.valid_to,
            "supersedes_id": item.supersedes_id,
            "proposed_by": item.proposed_by.get_username() if item.proposed_by else None,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
            "space": space,
        }


class MemoryPage(Page):
    items: list[MemoryOut]


class MemoryHitOut(Schema):
    memory: MemoryOut
    score: float
    rank: int
    signals: dict[str, float]


class MemorySearchOut(Schema):
    query: str
    hits: list[MemoryHitOut]


class MemoryCreate(Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)
    kind: KindName = "fact"  # type: ignore[valid-type]
    pinned: bool = False


class MemoryPatch(Schema):
    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS)
    pinned: bool | None = None


class MemoryProposeEdit(Schema):
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS)


class RevisionOut(Schema):
    id: int
    old_text: str
    new_text: str
    old_status: str
    new_status: str
    actor: str
    changed_by: str | None
    reason: str
    created_at: datetime

    @staticmethod
    def of(revision: MemoryRevision, *, redacted: bool) -> dict[str, Any]:
        return {
            "id": revision.pk,
            "old_text": "" if redacted else revision.old_text,
            "new_text": "" if redacted else revision.new_text,
            "old_status": revision.old_status,
            "new_status": revision.new_status,
            "actor": revision.actor,
            "changed_by": revision.changed_by.get_username() if revision.changed_by else None,
            "reason": revision.reason,
            "created_at": revision.created_at,
        }


class ImportOut(Schema):
    status: Literal["imported", "queued"]
    added: int = 0
    skipped: int = 0
    count: int = Field(0, description="Memories in the file.")
    message: str
    run_id: int | None = Field(None, description="The background run of a queued import.")


# -- conversations -------------------------------------------------------------------------


class ConversationOut(Schema):
    id: int
    title: str
    channel: str
    profile: str
    incognito: bool
    team_id: int | None
    created_at: datetime
    updated_at: datetime


class ConversationPage(Page):
    items: list[ConversationOut]


class MessageOut(Schema):
    id: int
    role: str
    content: str
    reasoning: str
    status: str
    error: str
    model: str
    profile: str
    prompt_tokens: int | None
    completion_tokens: int | None
    created_at: datetime
    finished_at: datetime | None


class ConversationDetail(ConversationOut):
    messages: list[MessageOut]


# -- connections ---------------------------------------------------------------------------


class SyncOut(Schema):
    pending: bool
    running: bool
    line: str
    done: int
    total: int
    last_state: str
    last_detail: str
    last_error: str
    last_finished_at: datetime | None


class ConnectionOut(Schema):
    id: int
    kind: str
    label: str
    status: str
    paused_reason: str
    last_sync_at: datetime | None
    last_sync_summary: str
    last_error: str
    last_error_hint: str
    last_error_at: datetime | None
    created_at: datetime
    counts: dict[str, int]
    sync: SyncOut


class SyncStarted(Schema):
    status: Literal["queued"]
    connection: ConnectionOut
