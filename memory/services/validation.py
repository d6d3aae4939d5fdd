"""Checks shared by every write path (create, bulk create, update, import).

A memory's fields are declared once as pydantic types (`Text`, `Short`, `Choice`, ...)
and a model (`MemorySpec`); the import file's models (memory/services/export_schema.py)
reuse them. Each type keeps the error message a person reads ("kind: 'gossip' is not
one of ..."); `field_problem` turns the first pydantic error into a MemoryFieldError
named by its path. The `clean_*` functions are the same checks for one value.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from functools import cache
from typing import Annotated, Any, Literal, NoReturn

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from memory.models import Actor, Kind, Source, Status

MAX_TEXT_CHARS = 10_000
DATETIME_FIELDS = ("occurred_at", "valid_from", "valid_to")
_PROBLEM = "memory_field"  # the pydantic error type of our own messages


class MemoryFieldError(ValueError):
    """One field of one memory is invalid."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def fail(message: str) -> NoReturn:
    """Raise, from a validator, the message a person reads for this field."""
    raise PydanticCustomError(_PROBLEM, "{message}", {"message": message})


# Pydantic's own checks that the models use, in the words of the checks above.
_MESSAGES = {
    "extra_forbidden": lambda error: "is not a memory field",
    "bool_type": lambda error: "must be true or false",
    "list_type": lambda error: "must be a list",
}


def error_path(loc: tuple[int | str, ...]) -> str:
    """("revisions", 1, "actor") -> "revisions[1].actor"."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path.removeprefix(".")


def field_problem(error: ValidationError, *, whole: str = "item") -> MemoryFieldError:
    """The first problem pydantic found, as the checks name it (an unknown key first).

    `whole` names the value itself when the problem is not in one of its fields."""
    errors = error.errors(include_url=False)
    unknown = sorted((e for e in errors if e["type"] == "extra_forbidden"), key=lambda e: e["loc"])
    first = unknown[0] if unknown else errors[0]
    if first["type"] == _PROBLEM:
        message = first["ctx"]["message"]
    else:
        message = _MESSAGES.get(first["type"], lambda error: error["msg"])(first)
    return MemoryFieldError(error_path(first["loc"]) or whole, message)


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it here instead of failing on write.
    if "\x00" in value:
        fail("contains a NUL character")
    return value


def _text(value: Any) -> str:
    if not isinstance(value, str):
        fail(f"must be a string, not {type(value).__name__}")
    text = _no_nul(value).strip()
    if not text:
        fail("must not be empty")
    if len(text) > MAX_TEXT_CHARS:
        fail(f"is {len(text)} characters; the limit is {MAX_TEXT_CHARS}")
    return text


@cache
def Short(max_length: int = 255) -> Any:
    """Optional text up to `max_length` characters; None reads as ""."""

    def short(value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            fail(f"must be a string, not {type(value).__name__}")
        if len(value) > max_length:
            fail(f"is longer than {max_length} characters")
        return _no_nul(value)

    return Annotated[str, PlainValidator(short, json_schema_input_type=str | None)]


@cache
def Choice(choices: type, *, blank: bool = False) -> Any:
    """One of a TextChoices' values (as a plain str); with `blank`, "" or None read as ""."""
    allowed = [str(choice) for choice in choices.values]  # type: ignore[attr-defined]

    def choice(value: Any) -> str:
        if blank and not value:
            return ""
        if value not in allowed:
            fail(f"{value!r} is not one of {', '.join(allowed)}")
        return str(value)

    schema = Literal[tuple(["", *allowed] if blank else allowed)]  # type: ignore[valid-type]
    return Annotated[str, PlainValidator(choice, json_schema_input_type=schema)]


def _datetime(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            parsed = parse_datetime(value)
            if parsed is None:
                parse_date(value)  # a date alone that is not a real day, e.g. 2024-02-30
        except ValueError as error:  # well-formed but impossible, e.g. 2024-02-30
            fail(f"{value[:40]!r} is not a real date-time ({error})")
        if parsed is None:
            fail(f"{value[:40]!r} is not an ISO 8601 date-time")
        value = parsed
    if not isinstance(value, datetime):
        fail(f"must be a date-time, not {type(value).__name__}")
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value, timezone.get_default_timezone())
        value.astimezone(UTC)  # what the database will store; year 1 or 9999 may not fit
    except (OverflowError, ValueError):
        fail(f"{value.isoformat()!r} is out of range")
    return value


def _reference(value: Any) -> int | str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        fail(f"must be a number or a string, not {type(value).__name__}")
    if isinstance(value, str) and len(value) > 255:
        fail("is longer than 255 characters")
    return value


def _confidence(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        fail(f"{value!r} is not a number")
    if not 0.0 <= float(value) <= 1.0:
        fail(f"{value} is not between 0 and 1")
    return float(value)


Text = Annotated[str, PlainValidator(_text, json_schema_input_type=str)]
DateTime = Annotated[datetime | None, PlainValidator(_datetime)]
# An id inside an import file (`id`, `supersedes`): a whole number or a short string.
Reference = Annotated[int | str | None, PlainValidator(_reference)]
Confidence = Annotated[float | None, PlainValidator(_confidence)]


class MemoryFields(BaseModel):
    """What a memory says, in the order its fields are checked (the first bad one is named)."""

    text: Text = Field(default=None, validate_default=True)
    kind: Choice(Kind) = Kind.FACT.value  # type: ignore[valid-type]
    source: Choice(Source) = Source.STATED.value  # type: ignore[valid-type]
    status: Choice(Status) = Status.ACTIVE.value  # type: ignore[valid-type]
    occurred_at: DateTime = None
    valid_from: DateTime = None
    valid_to: DateTime = None
    pinned: StrictBool = False
    confidence: Confidence = None
    quote: Short(MAX_TEXT_CHARS) = ""  # type: ignore[valid-type]
    source_ref: Short() = ""  # type: ignore[valid-type]
    thread_key: Short() = ""  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            fail(f"must be an object, not {type(data).__name__}")
        return data

    @field_validator("valid_to")
    @classmethod
    def _not_before_valid_from(cls, value: datetime | None, info: ValidationInfo):
        start = info.data.get("valid_from")
        if value and start and value < start:
            fail("is before valid_from")
        return value

    def fields(self) -> dict[str, Any]:
        """The memory's own fields (no links), as checked."""
        return {name: getattr(self, name) for name in MemoryFields.model_fields}


class MemorySpec(MemoryFields):
    """One new memory item for `memory_bulk_create(items=...)`; model instances untouched."""

    model_config = ConfigDict(extra="forbid")

    source_message: Any = None
    supersedes: Any = None

    def spec(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in MemorySpec.model_fields}


@cache
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def _clean(kind: Any, value: Any, field: str) -> Any:
    try:
        return _adapter(kind).validate_python(value)
    except ValidationError as error:
        raise field_problem(error, whole=field) from None


def clean_text(value: Any, field: str = "text") -> str:
    return _clean(Text, value, field)


def clean_choice(value: Any, field: str, choices: type) -> str:
    return _clean(Choice(choices), value, field)


def clean_actor(value: Any) -> str:
    return clean_choice(value, "actor", Actor)


def clean_datetime(value: Any, field: str) -> datetime | None:
    return _clean(DateTime, value, field)


def clean_reference(value: Any, field: str) -> int | str | None:
    return _clean(Reference, value, field)


def clean_confidence(value: Any) -> float | None:
    return _clean(Confidence, value, "confidence")


def clean_short(value: Any, field: str, max_length: int = 255) -> str:
    return _clean(Short(max_length), value, field)


def clean_spec(raw: dict[str, Any]) -> dict[str, Any]:
    """A complete, validated spec for one new memory item (model instances untouched)."""
    try:
        return MemorySpec.model_validate(raw).spec()
    except ValidationError as error:
        raise field_problem(error) from None
