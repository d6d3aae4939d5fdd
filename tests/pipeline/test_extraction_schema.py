"""Extraction's JSON schemas are generated from pydantic models, identical to the
hand-written dicts they replace (so the model is asked exactly what it was asked before)."""

from __future__ import annotations

from memory.consolidation.extract import (
    BOUNDED_MEMORIES_SCHEMA,
    MAX_CANDIDATES,
    MEMORIES_SCHEMA,
    ExtractedMemories,
)

ITEM = {
    "type": "object",
    "properties": {
        "text": {"type": "string"},
        "kind": {"type": "string", "enum": ["preference", "fact", "plan", "instruction"]},
        "message": {"type": "integer"},
        "quote": {"type": "string"},
        "confidence": {"type": "number"},
    },
    "required": ["text", "kind", "message", "quote", "confidence"],
    "additionalProperties": False,
}


def test_strict_schema_is_the_hand_written_one() -> None:
    assert MEMORIES_SCHEMA == {
        "type": "object",
        "properties": {"memories": {"type": "array", "items": ITEM}},
        "required": ["memories"],
        "additionalProperties": False,
    }


def test_bounded_schema_adds_only_length_limits() -> None:
    limited = {"type": "string", "maxLength": 200}
    item = {**ITEM, "properties": {**ITEM["properties"], "text": limited, "quote": limited}}
    memories = {"type": "array", "items": item, "maxItems": MAX_CANDIDATES}
    assert {**MEMORIES_SCHEMA, "properties": {"memories": memories}} == BOUNDED_MEMORIES_SCHEMA


def test_the_model_accepts_a_well_formed_reply() -> None:
    reply = {
        "memories": [
            {"text": "The user is vegetarian.", "kind": "fact", "message": 1, "quote": "veg"}
            | {"confidence": 0.9}
        ]
    }
    assert ExtractedMemories.model_validate(reply).memories[0].kind == "fact"
