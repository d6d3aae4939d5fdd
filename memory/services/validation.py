"""Checks shared by every write path (create, bulk create, update, import)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from memory.models import Actor, Kind, Source, Status

MAX_TEXT_CHARS = 10_000

# The keys a memory spec (one dict of `memory_bulk_create(items=...)`) may carry.
SPEC_DEFAULTS: dict[str, Any] = {
    "kind": Kind.FACT,
    "source": Source.STATED,
    "status": Status.ACTIVE,
    "source_message": None,
    "quote": "",
    "source_ref": "",
    "thread_key": "",
    "occurred_at": None,
    "valid_from": None,
    "valid_to": None,
    "pinned": False,
    "confidence": None,
    "supersedes": None,
}
DATETIME_FIELDS = ("occurred_at", "valid_from", "valid_to")


class MemoryFieldError(ValueError):
    """One field of one memory is invalid."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def clean_text(value: Any, field: str = "text") -> str:
    if not isinstance(value, str):
        raise MemoryFieldError(field, f"must be a string, not {type(value).__name__}")
    text = _no_nul(value, field).strip()
    if not text:
        raise MemoryFieldError(field, "must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        raise MemoryFieldError(field, f"is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


def clean_choice(value: Any, field: str, choices: type) -> str:
    allowed = [str(choice) for choice in choices.values]
    if value not in allowed:
        raise MemoryFieldError(field, f"{value!r} is not one of {', '.join(allowed)}")
    return str(value)


def clean_actor(value: Any) -> str:
    return clean_choice(value, "actor", Actor)


def clean_datetime(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                parse_date(value)  # a date alone that is not a real day, e.g. 2024-02-30
        except ValueError as error:  # well-formed but impossible, e.g. 2024-02-30
            problem = f"{value[:40]!r} is not a real date-time ({error})"
            raise MemoryFieldError(field, problem) from None
        if parsed is None:
            raise MemoryFieldError(field, f"{value[:40]!r} is not an ISO 8601 date-time")
        value = parsed
    if not isinstance(value, datetime):
        raise MemoryFieldError(field, f"must be a date-time, not {type(value).__name__}")
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        value.astimezone(UTC)  # what the database will store; year 1 or 9999 may not fit
    except (OverflowError, ValueError):
        raise MemoryFieldError(field, f"{value.isoformat()!r} is out of range") from None
    return value


def clean_reference(value: Any, field: str) -> int | str | None:
    """An id inside an import file (`id`, `supersedes`): a whole number or a short string."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MemoryFieldError(field, f"must be a number or a string, not {type(value).__name__}")
    if isinstance(value, str) and len(value) > 255:
        raise MemoryFieldError(field, "is longer than 255 characters")
    return value


def _no_nul(value: str, field: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here instead of failing on write.
    if "\x00" in value:
        raise MemoryFieldError(field, "contains a NUL character")
    return value


def clean_confidence(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise MemoryFieldError("confidence", f"{value!r} is not a number")
    if not 0.0 <= float(value) <= 1.0:
        raise MemoryFieldError("confidence", f"{value} is not between 0 and 1")
    return float(value)


def clean_short(value: Any, field: str, max_length: int = 255) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MemoryFieldError(field, f"must be a string, not {type(value).__name__}")
    if len(value) > max_length:
        raise MemoryFieldError(field, f"is longer than {max_length} characters")
    return _no_nul(value, field)


def clean_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """A complete, validated spec for one new memory item (model instances untouched)."""
    if not isinstance(raw, dict):
        raise MemoryFieldError("item", f"must be an object, not {type(raw).__name__}")
    unknown = sorted(set(raw) - set(SPEC_DEFAULTS) - {"text"})
    if unknown:
        raise MemoryFieldError(unknown[0], "is not a memory field")
    spec = {**SPEC_DEFAULTS, **raw}
    spec["text"] = clean_text(raw.get("text"))
    spec["kind"] = clean_choice(spec["kind"], "kind", Kind)
    spec["source"] = clean_choice(spec["source"], "source", Source)
    spec["status"] = clean_choice(spec["status"], "status", Status)
    for field in DATETIME_FIELDS:
        spec[field] = clean_datetime(spec[field], field)
    if spec["valid_from"] and spec["valid_to"] and spec["valid_to"] < spec["valid_from"]:
        raise MemoryFieldError("valid_to", "is before valid_from")
    if not isinstance(spec["pinned"], bool):
        raise MemoryFieldError("pinned", "must be true or false")
    spec["confidence"] = clean_confidence(spec["confidence"])
    spec["quote"] = clean_short(spec["quote"], "quote", MAX_TEXT_CHARS)
    spec["source_ref"] = clean_short(spec["source_ref"], "source_ref")
    spec["thread_key"] = clean_short(spec["thread_key"], "thread_key")
    return spec
