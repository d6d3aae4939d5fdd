"""The one way tests make people and memories (instead of a helper per test module)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model

from memory.models import MemoryItem
from memory.services import memory_bulk_create, memory_create

PASSWORD = "correct-horse-1"


def user_create(username: str = "olivia", *, password: str | None = PASSWORD) -> Any:
    """A user who can sign in with `password` (None: no usable password, no slow hashing;
    such a user signs in with force_login)."""
    return get_user_model().objects.create_user(username=username, password=password)


def remember(
    owner: Any,
    text: str,
    *,
    kind: str = "fact",
    source: str = "stated",
    actor: str = "user",
    **fields: Any,
) -> MemoryItem:
    """A memory saved the way the user would save it (through memory_create)."""
    return memory_create(owner=owner, text=text, kind=kind, source=source, actor=actor, **fields)


def remember_many(owner: Any, texts: Iterable[str], **fields: Any) -> list[MemoryItem]:
    """Memories of kind "fact" in one bulk insert (memory_bulk_create), `fields` on each."""
    return memory_bulk_create(
        owner=owner,
        items=[{"text": text, "kind": "fact", **fields} for text in texts],
        actor="user",
    )
