"""Export a user's memory as JSON, and read such a file back into a checked import plan.

Writing the plan (all or nothing, skipping what is already there) is memory.services.imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from memory.embedding import configured_model_name
from memory.models import Actor, MemoryItem, Status
from memory.services.validation import (
    MemoryFieldError,
    clean_choice,
    clean_datetime,
    clean_reference,
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
_REVISION_FIELDS = (
    "old_text",
    "new_text",
    "old_status",
    "new_status",
    "actor",
    "source_actor",
    "reason",
)


class MemoryImportError(ValueError):
    """The file is not a memory export we can read; names the first bad record and field."""


@dataclass(frozen=True)
class ImportRecord:
    spec: dict[str, Any]  # a clean memory spec (memory_bulk_create), `supersedes` unset
    revisions: list[dict[str, Any]]  # the file's own history, for revision_build
    old_id: int | str | None
    supersedes: int | str | None  # an `old_id` of another record of the file
    created_at: datetime | None


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
    """One revision of the file's history: kept as provenance, marked as imported.

    Its `actor` here is "import"; who made the change over there is `source_actor`."""
    if not isinstance(raw, dict):
        raise MemoryImportError(f"{where}: must be an object")
    revision = {}
    try:
        for field in ("old_text", "new_text", "reason"):
            revision[field] = clean_short(raw.get(field, ""), field, 100_000)
        for field in ("old_status", "new_status"):
            value = raw.get(field, "")
            revision[field] = clean_choice(value, field, Status) if value else ""
        actor = clean_choice(raw.get("actor"), "actor", Actor)
        source = raw.get("source_actor") or actor
        revision["source_actor"] = clean_choice(source, "source_actor", Actor)
        revision["actor"] = Actor.IMPORT
        revision["created_at"] = clean_datetime(raw.get("created_at"), "created_at")
    except MemoryFieldError as error:
        raise MemoryImportError(f"{where}.{error.field}: {error.message}") from None
    return revision


def _clean_record(raw: Any, index: int, ids: set) -> ImportRecord:
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
        old_id = clean_reference(raw.get("id"), "id")
        supersedes = clean_reference(raw.get("supersedes"), "supersedes")
    except MemoryFieldError as error:
        raise MemoryImportError(f"{where}.{error.field}: {error.message}") from None
    if old_id is not None:
        if old_id in ids:
            raise MemoryImportError(f"{where}.id: {old_id!r} appears twice")
        ids.add(old_id)
    revisions = raw.get("revisions", [])
    if not isinstance(revisions, list):
        raise MemoryImportError(f"{where}.revisions: must be a list")
    cleaned = [_clean_revision(rev, f"{where}.revisions[{n}]") for n, rev in enumerate(revisions)]
    return ImportRecord(spec, cleaned, old_id, supersedes, created_at)


def memory_import_records(data: Any) -> list:
    """The file's `items`, after the checks of its envelope (format, version, size)."""
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
    return records


def memory_import_plan(*, data: Any) -> list[ImportRecord]:
    """Check a whole export file; raises MemoryImportError naming the first bad record."""
    ids: set = set()
    plan = [_clean_record(raw, index, ids) for index, raw in enumerate(memory_import_records(data))]
    for index, record in enumerate(plan):
        if record.supersedes is not None and record.supersedes not in ids:
            raise MemoryImportError(
                f"items[{index}].supersedes: {record.supersedes!r} is not in the file"
            )
    return plan
