"""Every write to memory goes through these functions (keyword-only, `<noun>_<verb>`)."""

from memory.services.forget import (
    REDACTED,
    memories_forget_permanently,
    memory_forget,
    memory_forget_all,
    memory_forget_permanently,
    memory_revision_restore,
    memory_unforget,
)
from memory.services.imports import ImportResult, memory_import
from memory.services.items import (
    memory_bulk_create,
    memory_create,
    memory_mark_used,
    memory_pin,
    memory_set_status,
    memory_update,
)
from memory.services.transfer import MemoryImportError, memory_export, memory_import_plan
from memory.services.validation import MemoryFieldError

__all__ = [
    "REDACTED",
    "ImportResult",
    "MemoryFieldError",
    "MemoryImportError",
    "memories_forget_permanently",
    "memory_bulk_create",
    "memory_create",
    "memory_export",
    "memory_forget",
    "memory_forget_all",
    "memory_forget_permanently",
    "memory_import",
    "memory_import_plan",
    "memory_mark_used",
    "memory_pin",
    "memory_revision_restore",
    "memory_set_status",
    "memory_unforget",
    "memory_update",
]
