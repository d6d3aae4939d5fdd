"""The memory export file as pydantic models: what an import accepts, field by field.

`ExportFile` is the envelope (format, version, the list of items), `ImportItem` one
record and `ImportRevision` one line of its history. They reuse the memory field types
of memory/services/validation.py, so an import says exactly what a create would say,
prefixed with the failing record's path ("items[2].revisions[1].actor: ...").
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from memory.models import Actor, Source, Status
from memory.services.validation import (
    Choice,
    DateTime,
    MemoryFields,
    Reference,
    Short,
    fail,
)

EXPORT_FORMAT = "recall-assistant/memory"
EXPORT_VERSION = 1
MAX_IMPORT_ITEMS = 100_000
MAX_HISTORY_CHARS = 100_000


def _not_too_many(records: list[Any]) -> list[Any]:
    if len(records) > MAX_IMPORT_ITEMS:
        fail(f"{len(records)} records; the limit is {MAX_IMPORT_ITEMS}")
    return records


class ExportFile(BaseModel):
    """The envelope; its items are checked one by one (ImportItem), first bad one named."""

    format: Any = Field(default=None, validate_default=True)
    version: Any = Field(default=None, validate_default=True)
    items: Annotated[list[Any], AfterValidator(_not_too_many)] = Field(
        default=None, validate_default=True
    )

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            fail("the file must hold a JSON object")
        return data

    @field_validator("format")
    @classmethod
    def _ours(cls, value: Any) -> str:
        if value != EXPORT_FORMAT:
            fail(f"expected {EXPORT_FORMAT!r}, got {value!r}")
        return value

    @field_validator("version")
    @classmethod
    def _supported(cls, value: Any) -> int:
        if value != EXPORT_VERSION:
            fail(f"{value!r} is not supported (only {EXPORT_VERSION})")
        return value


class ImportRevision(BaseModel):
    """One change of the file's history: kept as provenance, marked as imported.

    Its `actor` becomes "import"; who made the change over there is `source_actor`."""

    old_text: Short(MAX_HISTORY_CHARS) = ""  # type: ignore[valid-type]
    new_text: Short(MAX_HISTORY_CHARS) = ""  # type: ignore[valid-type]
    reason: Short(MAX_HISTORY_CHARS) = ""  # type: ignore[valid-type]
    old_status: Choice(Status, blank=True) = ""  # type: ignore[valid-type]
    new_status: Choice(Status, blank=True) = ""  # type: ignore[valid-type]
    actor: Choice(Actor) = Field(default=None, validate_default=True)  # type: ignore[valid-type]
    source_actor: Choice(Actor) = Field(default=None, validate_default=True)  # type: ignore[valid-type]
    created_at: DateTime = None

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            fail("must be an object")
        return data

    @field_validator("source_actor", mode="wrap")
    @classmethod
    def _or_actor(cls, value: Any, handler, info: ValidationInfo) -> str:
        return handler(value or info.data.get("actor"))

    def as_provenance(self) -> dict[str, Any]:
        """Keyword arguments for revision_build."""
        return {**self.model_dump(), "actor": Actor.IMPORT}


class ImportItem(MemoryFields):
    """One record of the file: a memory, its old id and `supersedes` link, its history."""

    source: Choice(Source) = Source.IMPORTED.value  # type: ignore[valid-type]
    created_at: DateTime = None
    id: Reference = None
    supersedes: Reference = None
    revisions: list[ImportRevision] = []
