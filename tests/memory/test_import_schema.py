# ruff: noqa: E501  (recorded messages and fixtures, kept on one line each)
"""The import file and a memory spec are checked by pydantic models (memory/services/
export_schema.py, validation.py) with the messages of the hand-written checks they
replaced: each case below was recorded from those checks, word for word."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import BaseModel

from memory.models import Actor, Kind, Source, Status
from memory.services.export_schema import ExportFile, ImportItem, ImportRevision
from memory.services.transfer import MemoryImportError, memory_import_plan
from memory.services.validation import MemoryFieldError, MemorySpec, clean_spec

GOOD_REV = {
    "old_text": "",
    "new_text": "x",
    "old_status": "",
    "new_status": "active",
    "actor": "user",
    "source_actor": "user",
    "reason": "created",
    "created_at": "2024-01-01T00:00:00+00:00",
}
GOOD_ITEM = {
    "id": 1,
    "text": "Bees.",
    "kind": "fact",
    "status": "active",
    "source": "stated",
    "quote": "",
    "source_ref": "",
    "thread_key": "",
    "pinned": False,
    "confidence": None,
    "occurred_at": None,
    "valid_from": None,
    "valid_to": None,
    "supersedes": None,
    "created_at": "2024-01-01T00:00:00+00:00",
    "use_count": 0,
    "embedding_model": "x",
    "revisions": [GOOD_REV],
}


def item(**kw):
    return {**GOOD_ITEM, **kw}


def rev(**kw):
    return {**GOOD_REV, **kw}


def file(*items, **kw):
    return {"format": "recall-assistant/memory", "version": 1, "items": list(items), **kw}


FILES = [
    [1, 2],
    "x",
    {"version": 1, "items": []},
    file(format="other"),
    file(version=2),
    file(version="1"),
    file(version=True),
    {"format": "recall-assistant/memory", "version": 1},
    file(items={"a": 1}),
    file(item(), "not a dict"),
    file(item(), None),
    file(item(text=None)),
    file(item(text=5)),
    file(item(text="  ")),
    file(item(text="a\x00b")),
    file(item(text="x" * 10_001)),
    file(item(text="  " + "x" * 10_000 + "  ")),
    file(item(kind="gossip")),
    file(item(kind=None)),
    file(item(kind=3)),
    file(item(source=None)),
    file(item(status="nope")),
    file(item(occurred_at="yesterday")),
    file(item(occurred_at="2024-02-30")),
    file(item(occurred_at="2024-02-30T10:00:00")),
    file(item(occurred_at=5)),
    file(item(occurred_at="0001-01-01T00:00:00+05:00")),
    file(item(valid_from="2024-01-02", valid_to="2024-01-01")),
    file(item(valid_from="2024-01-02T00:00:00", valid_to="2024-01-01T00:00:00")),
    file(item(valid_from="2024-01-01T00:00:00", valid_to="2024-01-02T00:00:00", pinned="yes")),
    file(item(pinned=None)),
    file(item(pinned=1)),
    file(item(confidence="0.5")),
    file(item(confidence=True)),
    file(item(confidence=float("nan"))),
    file(item(confidence=1.5)),
    file(item(confidence=-1)),
    file(item(quote=5)),
    file(item(quote="q\x00")),
    file(item(quote="q" * 10_001)),
    file(item(source_ref="s" * 256)),
    file(item(thread_key=[1])),
    file(item(created_at="2024-02-30T10:00:00")),
    file(item(created_at="nonsense")),
    file(item(id=[1, 2])),
    file(item(id=True)),
    file(item(id="x" * 256)),
    file(item(id=1.5)),
    file(item(supersedes={"id": 1})),
    file(item(id=1), item(id=1)),
    file(item(id="a"), item(id="a", revisions="no")),
    file(item(id=1), item(id=2, supersedes=3)),
    file(item(id=1), item(id=2, supersedes=1), item(id=3, supersedes="1")),
    file(item(revisions="no")),
    file(item(revisions=[rev(), "x"])),
    file(item(revisions=[rev(actor="robot")])),
    file(item(revisions=[rev(actor=None)])),
    file(item(revisions=[{k: v for k, v in GOOD_REV.items() if k != "actor"}])),
    file(item(revisions=[rev(source_actor="robot")])),
    file(item(revisions=[rev(old_status="gone")])),
    file(item(revisions=[rev(new_status=5)])),
    file(item(revisions=[rev(old_text=5)])),
    file(item(revisions=[rev(reason="r\x00")])),
    file(item(revisions=[rev(new_text="n" * 100_001)])),
    file(item(revisions=[rev(created_at="2023-02-29T00:00:00")])),
    file(item(revisions=[rev(created_at=7)])),
    file(item(kind="gossip", text="  ")),
    file(item(kind="gossip", revisions=[rev(actor="robot")])),
    file(item(id=1), item(id=1, revisions=[rev(actor="robot")])),
    file(item(id=1), item(id=1, kind="gossip")),
    file(item(id=1), item(id=1, supersedes=[1])),
    file(item(kind="gossip"), item(text="")),
]

SPECS = [
    "x",
    None,
    {"text": "a", "colour": "red", "bogus": 1},
    {"colour": "red"},
    {"text": None},
    {"text": "ok", "kind": "gossip"},
    {"text": "ok", "source": "dreamt"},
    {"text": "ok", "status": "gone"},
    {"text": "ok", "occurred_at": dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5)))},
    {"text": "ok", "occurred_at": dt.date(2024, 1, 1)},
    {"text": "ok", "valid_from": "2024-01-02", "valid_to": "2024-01-01"},
    {"text": "ok", "pinned": "true"},
    {"text": "ok", "confidence": 2},
    {"text": "ok", "quote": None, "source_ref": 3},
    {"text": "ok", "thread_key": "t" * 256},
    {"text": "", "kind": "gossip"},
]

FILE_MESSAGES = [
    "the file must hold a JSON object",
    "the file must hold a JSON object",
    "format: expected 'recall-assistant/memory', got None",
    "format: expected 'recall-assistant/memory', got 'other'",
    "version: 2 is not supported (only 1)",
    "version: '1' is not supported (only 1)",
    None,
    "items: must be a list",
    "items: must be a list",
    "items[1]: must be an object, not str",
    "items[1]: must be an object, not NoneType",
    "items[0].text: must be a string, not NoneType",
    "items[0].text: must be a string, not int",
    "items[0].text: must not be empty",
    "items[0].text: contains a NUL character",
    "items[0].text: is 10001 characters; the limit is 10000",
    None,
    "items[0].kind: 'gossip' is not one of preference, fact, plan, instruction, profile, event, summary",
    "items[0].kind: None is not one of preference, fact, plan, instruction, profile, event, summary",
    "items[0].kind: 3 is not one of preference, fact, plan, instruction, profile, event, summary",
    "items[0].source: None is not one of stated, message, extracted, imported, connector, promoted, benchmark",
    "items[0].status: 'nope' is not one of active, proposed, archived",
    "items[0].occurred_at: 'yesterday' is not an ISO 8601 date-time",
    "items[0].occurred_at: '2024-02-30' is not a real date-time (day is out of range for month)",
    "items[0].occurred_at: '2024-02-30T10:00:00' is not a real date-time (day is out of range for month)",
    "items[0].occurred_at: must be a date-time, not int",
    "items[0].occurred_at: '0001-01-01T00:00:00+05:00' is out of range",
    "items[0].valid_to: is before valid_from",
    "items[0].valid_to: is before valid_from",
    "items[0].pinned: must be true or false",
    "items[0].pinned: must be true or false",
    "items[0].pinned: must be true or false",
    "items[0].confidence: '0.5' is not a number",
    "items[0].confidence: True is not a number",
    "items[0].confidence: nan is not a number",
    "items[0].confidence: 1.5 is not between 0 and 1",
    "items[0].confidence: -1 is not between 0 and 1",
    "items[0].quote: must be a string, not int",
    "items[0].quote: contains a NUL character",
    "items[0].quote: is longer than 10000 characters",
    "items[0].source_ref: is longer than 255 characters",
    "items[0].thread_key: must be a string, not list",
    "items[0].created_at: '2024-02-30T10:00:00' is not a real date-time (day is out of range for month)",
    "items[0].created_at: 'nonsense' is not an ISO 8601 date-time",
    "items[0].id: must be a number or a string, not list",
    "items[0].id: must be a number or a string, not bool",
    "items[0].id: is longer than 255 characters",
    "items[0].id: must be a number or a string, not float",
    "items[0].supersedes: must be a number or a string, not dict",
    "items[1].id: 1 appears twice",
    "items[1].id: 'a' appears twice",
    "items[1].supersedes: 3 is not in the file",
    "items[2].supersedes: '1' is not in the file",
    "items[0].revisions: must be a list",
    "items[0].revisions[1]: must be an object",
    "items[0].revisions[0].actor: 'robot' is not one of user, assistant, system, import",
    "items[0].revisions[0].actor: None is not one of user, assistant, system, import",
    "items[0].revisions[0].actor: None is not one of user, assistant, system, import",
    "items[0].revisions[0].source_actor: 'robot' is not one of user, assistant, system, import",
    "items[0].revisions[0].old_status: 'gone' is not one of active, proposed, archived",
    "items[0].revisions[0].new_status: 5 is not one of active, proposed, archived",
    "items[0].revisions[0].old_text: must be a string, not int",
    "items[0].revisions[0].reason: contains a NUL character",
    "items[0].revisions[0].new_text: is longer than 100000 characters",
    "items[0].revisions[0].created_at: '2023-02-29T00:00:00' is not a real date-time (day is out of range for month)",
    "items[0].revisions[0].created_at: must be a date-time, not int",
    "items[0].text: must not be empty",
    "items[0].kind: 'gossip' is not one of preference, fact, plan, instruction, profile, event, summary",
    "items[1].id: 1 appears twice",
    "items[1].kind: 'gossip' is not one of preference, fact, plan, instruction, profile, event, summary",
    "items[1].supersedes: must be a number or a string, not list",
    "items[0].kind: 'gossip' is not one of preference, fact, plan, instruction, profile, event, summary",
]

SPEC_MESSAGES = [
    ("item", "must be an object, not str"),
    ("item", "must be an object, not NoneType"),
    ("bogus", "is not a memory field"),
    ("colour", "is not a memory field"),
    ("text", "must be a string, not NoneType"),
    ("kind", "'gossip' is not one of preference, fact, plan, instruction, profile, event, summary"),
    (
        "source",
        "'dreamt' is not one of stated, message, extracted, imported, connector, promoted, benchmark",
    ),
    ("status", "'gone' is not one of active, proposed, archived"),
    ("occurred_at", "'0001-01-01T00:00:00+05:00' is out of range"),
    ("occurred_at", "must be a date-time, not date"),
    ("valid_to", "is before valid_from"),
    ("pinned", "must be true or false"),
    ("confidence", "2 is not between 0 and 1"),
    ("source_ref", "must be a string, not int"),
    ("thread_key", "is longer than 255 characters"),
    ("text", "must not be empty"),
]


@pytest.mark.parametrize(("data", "message"), list(zip(FILES, FILE_MESSAGES, strict=True)))
def test_an_import_names_the_first_problem_as_before(data, message):
    if message is None:
        memory_import_plan(data=data)
        return
    with pytest.raises(MemoryImportError) as caught:
        memory_import_plan(data=data)
    assert str(caught.value) == message


@pytest.mark.parametrize(("raw", "expected"), list(zip(SPECS, SPEC_MESSAGES, strict=True)))
def test_a_spec_names_the_first_problem_as_before(raw, expected):
    with pytest.raises(MemoryFieldError) as caught:
        clean_spec(raw)
    assert (caught.value.field, caught.value.message) == expected


def test_the_checks_are_pydantic_models_with_a_schema_of_the_file():
    for model in (ExportFile, ImportItem, ImportRevision, MemorySpec):
        assert issubclass(model, BaseModel)
    schema = ExportFile.model_json_schema()
    assert list(schema["properties"]) == ["format", "version", "items"]
    item = ImportItem.model_json_schema()
    assert item["properties"]["kind"]["enum"] == list(Kind.values)
    assert item["properties"]["source"] == {
        "default": "imported", "enum": list(Source.values), "title": "Source", "type": "string"
    }  # fmt: skip
    revision = item["$defs"]["ImportRevision"]["properties"]
    assert revision["actor"]["enum"] == list(Actor.values)
    assert revision["new_status"]["enum"] == ["", *Status.values]
    # A spec's keys and defaults come from the model, not from a hand-written dict.
    spec = clean_spec({"text": " Bees. "})
    assert list(spec) == list(MemorySpec.model_fields)
    assert spec == {**{n: f.default for n, f in MemorySpec.model_fields.items()}, "text": "Bees."}
    assert all(type(spec[key]) is str for key in ("kind", "source", "status"))
