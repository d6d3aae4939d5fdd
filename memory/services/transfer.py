"""Export a user's memory as JSON, and read such a file back into a checked import plan.

Writing the plan (all or nothing, skipping what is already there) is memory.services.imports.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from pydantic import ValidationError

from memory import events
from memory.embedding import configured_model_name
from memory.models import MemoryItem
from memory.services.export_schema import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ExportFile,
    ImportItem,
)
from memory.services.validation import clean_reference, field_problem

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
    revisions: list[dict[str, Any]]  # the file's own history, for revisions_import
    old_id: int | str | None
    supersedes: int | str | None  # an `old_id` of another record of the file
    created_at: datetime | None


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def memory_export(*, owner, changed_by=None) -> dict[str, Any]:
    """Every memory of `owner` that is not forgotten, with its revisions (JSON-ready).
    Recorded as exported by `changed_by` (the owner when not given: the export page's
    only caller is the owner)."""
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
    events.memory_changed_send(
        action=events.EXPORTED, owner=owner, changed_by=changed_by or owner, actor="user",
        items=[], detail={"count": len(exported)},
    )  # fmt: skip
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "exported_at": timezone.now().isoformat(),
        "embedding_model": configured_model_name(),
        "items": exported,
    }


def _problem(error: ValidationError, where: str) -> MemoryImportError:
    problem = field_problem(error, whole="")
    path = f"{where}.{problem.field}" if where and problem.field else where or problem.field
    return MemoryImportError(f"{path}: {problem.message}" if path else problem.message)


def _clean_record(raw: Any, index: int, ids: set) -> ImportRecord:
    """One record, checked in the order the file reads: its fields, then whether its id
    is already taken, then its history."""
    where = f"items[{index}]"
    try:
        item = ImportItem.model_validate(raw)
    except ValidationError as error:
        problem = _problem(error, where)
        if str(problem).startswith(f"{where}.revisions"):
            _claim(clean_reference(raw.get("id"), "id"), where, ids)
        raise problem from None
    _claim(item.id, where, ids)
    spec = {**item.fields(), "source_message": None, "supersedes": None}
    revisions = [revision.as_provenance() for revision in item.revisions]
    return ImportRecord(spec, revisions, item.id, item.supersedes, item.created_at)


def _claim(old_id: int | str | None, where: str, ids: set) -> None:
    if old_id is not None:
        if old_id in ids:
            raise MemoryImportError(f"{where}.id: {old_id!r} appears twice")
        ids.add(old_id)


def memory_import_records(data: Any) -> list:
    """The file's `items`, after the checks of its envelope (format, version, size)."""
    try:
        return ExportFile.model_validate(data).items
    except ValidationError as error:
        raise _problem(error, "") from None


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
