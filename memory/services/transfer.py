"""Export a user's memory as JSON, and import such a file (all or nothing)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from memory.embedding import configured_model_name
from memory.models import Actor, MemoryItem, MemoryRevision, Status
from memory.services.items import memory_bulk_create, revision_build
from memory.services.validation import (
    MemoryFieldError,
    clean_choice,
    clean_datetime,
    clean_short,
    clean_spec,
)

EXPORT_FORMAT = "recall-assistant/memory"
EXPORT_VERSION = 1
MAX_IMPORT_ITEMS = 100_000

_ITEM_FIELDS = (
    "text",
    "kind",
    "status",
    "source",
    "quote",
    "source_ref",
    "thread_key",
    "pinned",
    "confidence",
)
_REVISION_FIELDS = ("old_text", "new_text", "old_status", "new_status", "actor", "reason")


class MemoryImportError(ValueError):
    """The file is not a memory export we can read; names the first bad record and field."""


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def memory_export(*, owner) -> dict[str, Any]:
    """Every memory of `owner` that is not forgotten, with its revisions (JSON-ready)."""
    items = (
        MemoryItem.objects.owned_by(owner)
        .visible()
        .order_by("created_at", "id")
        .prefetch_related("revisions")
    )
    exported = []
    for item in items:
        record: dict[str, Any] = {"id": item.pk}
        record.update({field: getattr(item, field) for field in _ITEM_FIELDS})
        record.update(
            {
                "source_message_id": item.source_message_id,
                "occurred_at": _iso(item.occurred_at),
                "valid_from": _iso(item.valid_from),
                "valid_to": _iso(item.valid_to),
                "supersedes": item.supersedes_id,
                "use_count": item.use_count,
                "last_used_at": _iso(item.last_used_at),
                "created_at": _iso(item.created_at),
                "updated_at": _iso(item.updated_at),
                "embedding_model": item.embedding_model,
                "revisions": [
                    {
                        **{field: getattr(rev, field) for field in _REVISION_FIELDS},
                        "created_at": _iso(rev.created_at),
                    }
                    for rev in item.revisions.all()
                ],
            }
        )
        exported.append(record)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "embedding_model": configured_model_name(),
        "items": exported,
    }


def _clean_revision(raw: Any, where: str) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise MemoryImportError(f"{where}: must be an object")
    revision = {}
    try:
        for field in ("old_text", "new_text", "reason"):
            revision[field] = clean_short(raw.get(field, ""), field, 100_000)
        for field in ("old_status", "new_status"):
            value = raw.get(field, "")
            revision[field] = clean_choice(value, field, Status) if value else ""
        revision["actor"] = clean_choice(raw.get("actor"), "actor", Actor)
        revision["created_at"] = clean_datetime(raw.get("created_at"), "created_at")
    except MemoryFieldError as error:
        raise MemoryImportError(f"{where}.{error.field}: {error.message}") from None
    return revision


def _clean_record(raw: Any, index: int, ids: set) -> tuple[dict, list[dict], Any, Any]:
    where = f"items[{index}]"
    if not isinstance(raw, dict):
        raise MemoryImportError(f"{where}: must be an object, not {type(raw).__name__}")
    spec = {field: raw[field] for field in _ITEM_FIELDS if field in raw}
    spec.setdefault("source", "imported")
    for field in ("occurred_at", "valid_from", "valid_to"):
        spec[field] = raw.get(field)
    try:
        spec = clean_spec(spec)
        created_at = clean_datetime(raw.get("created_at"), "created_at")
    except MemoryFieldError as error:
        raise MemoryImportError(f"{where}.{error.field}: {error.message}") from None
    old_id = raw.get("id")
    if old_id is not None:
        if old_id in ids:
            raise MemoryImportError(f"{where}.id: {old_id!r} appears twice")
        ids.add(old_id)
    revisions = raw.get("revisions", [])
    if not isinstance(revisions, list):
        raise MemoryImportError(f"{where}.revisions: must be a list")
    cleaned = [_clean_revision(rev, f"{where}.revisions[{n}]") for n, rev in enumerate(revisions)]
    return spec, cleaned, (old_id, raw.get("supersedes")), created_at


def memory_import(*, owner, data: dict[str, Any], changed_by=None) -> int:
    """Add the memories of an export to `owner`'s memory; returns how many.

    Everything is validated before anything is written, and written in one transaction:
    a bad file changes nothing. Texts are re-embedded with the configured model; the
    source message link is dropped (message ids belong to the exporting installation),
    the quote is kept; `supersedes` links are re-pointed inside the file.
    """
    if not isinstance(data, dict):
        raise MemoryImportError("the file must hold a JSON object")
    if data.get("format") != EXPORT_FORMAT:
        raise MemoryImportError(f"format: expected {EXPORT_FORMAT!r}, got {data.get('format')!r}")
    if data.get("version") != EXPORT_VERSION:
        raise MemoryImportError(f"version: {data.get('version')!r} is not supported (only 1)")
    records = data.get("items")
    if not isinstance(records, list):
        raise MemoryImportError("items: must be a list")
    if len(records) > MAX_IMPORT_ITEMS:
        raise MemoryImportError(f"items: {len(records)} records; the limit is {MAX_IMPORT_ITEMS}")
    ids: set = set()
    cleaned = [_clean_record(raw, index, ids) for index, raw in enumerate(records)]
    for index, (_spec, _revs, (_old_id, supersedes), _created) in enumerate(cleaned):
        if supersedes is not None and supersedes not in ids:
            raise MemoryImportError(f"items[{index}].supersedes: {supersedes!r} is not in the file")
    if not cleaned:
        return 0
    with transaction.atomic():
        created = memory_bulk_create(
            owner=owner,
            items=[spec for spec, *_ in cleaned],
            actor=Actor.IMPORT,
            changed_by=changed_by,
            reason="imported",
        )
        new_ids = {}
        history = []
        for item, (_spec, revisions, (old_id, _sup), created_at) in zip(
            created, cleaned, strict=True
        ):
            if old_id is not None:
                new_ids[old_id] = item
            if created_at:
                item.created_at = created_at
            history.extend(revision_build(item=item, **revision) for revision in revisions)
        MemoryItem.objects.bulk_update(created, ["created_at"], batch_size=1000)
        for item, (_spec, _revs, (_old_id, supersedes), _c) in zip(created, cleaned, strict=True):
            if supersedes is not None:
                item.supersedes = new_ids[supersedes]
        MemoryItem.objects.bulk_update(created, ["supersedes"], batch_size=1000)
        MemoryRevision.objects.bulk_create(history, batch_size=1000)
    return len(created)
