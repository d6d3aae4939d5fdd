"""Getting JSON out of models that do not always answer with clean JSON.

Reasoning models wrap their output in <think> blocks; small models add prose, code
fences, trailing commas or stop half-way. `parse_json_reply` finds the JSON value the
model meant and raises StructuredOutputError (never anything else) when there is none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel

from .reasoning import split_reasoning

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")


class StructuredOutputError(ValueError):
    """The reply held no usable JSON; the message says what was wrong."""


def json_schema_format(name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An OpenAI `response_format` asking for output that follows `schema`
    (vLLM enforces it with guided decoding; other servers may ignore it)."""
    return {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}}


def json_schema_of(model: type[BaseModel], *, leave_out: Collection[str] = ()) -> dict[str, Any]:
    """The JSON schema of a pydantic model as one self-contained object: `$ref`s inlined
    and titles left out, the shape OpenAI's strict mode, vLLM and llama.cpp's grammars all
    take. `leave_out` drops keywords too (e.g. maxLength, which strict mode refuses)."""
    schema = model.model_json_schema()
    definitions = schema.pop("$defs", {})
    dropped = {"title", *leave_out}

    def inline(node: Any, *, names: bool = False) -> Any:
        if isinstance(node, list):
            return [inline(item) for item in node]
        if not isinstance(node, dict):
            return node
        if names:  # the keys of "properties" are field names, not keywords
            return {name: inline(value) for name, value in node.items()}
        if "$ref" in node:
            return inline(definitions[node["$ref"].rsplit("/", 1)[-1]])
        return {
            key: inline(value, names=key == "properties")
            for key, value in node.items()
            if key not in dropped
        }

    result: dict[str, Any] = inline(schema)
    return result


def _candidates(text: str) -> list[str]:
    found = [match.strip() for match in _FENCE.findall(text)]
    for opener, closer in (("{", "}"), ("[", "]")):
        start = text.find(opener)
        end = text.rfind(closer)
        if start != -1 and end > start:
            found.append(text[start : end + 1])
    found.append(text.strip())
    return found


def _leading_value(text: str) -> Any:
    """The complete JSON value starting at the first opener, ignoring what follows."""
    starts = [i for i in (text.find("{"), text.find("[")) if i != -1]
    if not starts:
        raise json.JSONDecodeError("no JSON value", text, 0)
    value, _ = json.JSONDecoder().raw_decode(text[min(starts) :])
    return value


def parse_json_reply(text: str, *, expect: type = dict) -> Any:
    """Parse a model's reply into a JSON value of type `expect` (dict or list)."""
    _, content, _ = split_reasoning(text or "")
    content = content or text or ""
    if not content.strip():
        raise StructuredOutputError("The model returned an empty reply.")
    for candidate in _candidates(content):
        cleaned = _TRAILING_COMMA.sub(r"\1", candidate)
        for parse in (json.loads, _leading_value):
            for attempt in (candidate, cleaned):
                try:
                    value = parse(attempt)
                except json.JSONDecodeError:
                    continue
                if isinstance(value, expect):
                    return value
    snippet = content.strip().replace("\n", " ")[:120]
    raise StructuredOutputError(f"The model's reply was not valid JSON: {snippet!r}")
