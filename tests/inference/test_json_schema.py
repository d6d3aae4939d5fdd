"""json_schema_of: a pydantic model as one self-contained JSON schema for response_format."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from inference.structured import json_schema_of


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(max_length=20)
    tags: list[str] = Field(max_length=3)


class Notebook(BaseModel):
    notes: list[Note]


def test_refs_are_inlined_and_titles_dropped_but_not_a_field_named_title() -> None:
    schema = json_schema_of(Notebook)
    assert "$defs" not in schema and "title" not in schema
    note = schema["properties"]["notes"]["items"]
    assert note["additionalProperties"] is False
    assert note["properties"]["title"] == {"type": "string", "maxLength": 20}
    assert note["required"] == ["title", "tags"]


def test_leave_out_drops_keywords_everywhere() -> None:
    schema = json_schema_of(Notebook, leave_out=("maxLength", "maxItems"))
    note = schema["properties"]["notes"]["items"]
    assert note["properties"]["title"] == {"type": "string"}
    assert note["properties"]["tags"] == {"type": "array", "items": {"type": "string"}}
