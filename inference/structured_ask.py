"""Asking a model for JSON, robustly: the worker never crashes on model output.

Structured output is requested (response_format json_schema); a server that rejects the
field is asked again with llama.cpp's json_object+schema, then without it, and the style
it accepted is remembered for the process. The reply is parsed leniently
(<think> blocks, prose and code fences around the JSON); an unusable reply is retried
once with a short correction, then given up on and reported, never raised.
Transport failures (InferenceError) are raised: the task decides whether to retry.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .client import CompletionResult, complete_chat
from .config import BackendConfig
from .errors import InferenceError
from .events import Usage
from .structured import StructuredOutputError, json_schema_format, parse_json_reply

CORRECTION = (
    "That reply was not usable: {problem} Answer again with only the JSON object, "
    "exactly in the requested shape, and nothing else."
)
_REJECTED_FIELD = re.compile(r"HTTP (400|422)\b")

# Servers (by base URL) and the first response_format style they accepted.
_accepted_style: dict[str, int] = {}


def _formats(
    name: str, schema: dict[str, Any], grammar_schema: dict[str, Any] | None
) -> list[dict[str, Any] | None]:
    """Structured-output styles, most precise first: OpenAI/vLLM's json_schema, then
    llama.cpp's json_object with a schema (grammar-constrained), then nothing."""
    grammar = {"type": "json_object", "schema": grammar_schema or schema}
    return [json_schema_format(name, schema), grammar, None]


@dataclass
class JsonAnswer:
    value: Any = None  # None when the model gave up
    error: str = ""  # the last problem with the model's reply
    failures: int = 0  # unusable replies seen (0, 1 or 2)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    # One entry per model call, with the tokens the server reported (0 and 0 when it
    # reported none: prompt_tokens above are estimated then, these never are).
    calls: list[Usage] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.value is not None


def reported_usage(result: CompletionResult) -> Usage:
    """The tokens the server reported for one call; 0 and 0 when it reported none."""
    if result.usage_estimated:
        return Usage(prompt_tokens=0, completion_tokens=0)
    return Usage(prompt_tokens=result.prompt_tokens, completion_tokens=result.completion_tokens)


def _rejects_response_format(error: InferenceError) -> bool:
    """The server refused the field (400/422; llama-cpp-python's server says 500 but
    names the field)."""
    if error.kind != "status":
        return False
    return bool(_REJECTED_FIELD.search(error.message)) or "response_format" in error.message


def _complete(
    config: BackendConfig, messages: list[dict[str, str]], formats: list[dict[str, Any] | None]
) -> CompletionResult:
    first = _accepted_style.get(config.base_url, 0)
    for style in range(first, len(formats)):
        fmt = formats[style]
        try:
            result = complete_chat(config, messages, response_format=fmt)
        except InferenceError as error:
            if fmt is None or not _rejects_response_format(error):
                raise
            continue
        _accepted_style[config.base_url] = style
        return result
    raise AssertionError("unreachable: the last style sends no response_format")


def ask_json(
    config: BackendConfig,
    messages: list[dict[str, str]],
    *,
    schema_name: str,
    schema: dict[str, Any],
    validate: Callable[[Any], Any] = lambda value: value,
    grammar_schema: dict[str, Any] | None = None,
) -> JsonAnswer:
    """The validated JSON value of the model's reply.

    `validate` turns the parsed value into what the caller wants, raising
    StructuredOutputError (with a message the model can act on) when it is unusable.
    `grammar_schema` may add length limits (maxLength, maxItems) that llama.cpp's
    grammars enforce but OpenAI's strict mode refuses; it only goes to json_object.
    """
    formats = _formats(schema_name, schema, grammar_schema)
    conversation = list(messages)
    answer = JsonAnswer()
    for _attempt in range(2):
        result = _complete(config, conversation, formats)
        answer.prompt_tokens += result.prompt_tokens
        answer.completion_tokens += result.completion_tokens
        answer.calls.append(reported_usage(result))
        text = result.content or result.reasoning
        try:
            answer.value = validate(_parse_any(text))
            return answer
        except StructuredOutputError as error:
            answer.failures += 1
            answer.error = str(error)
            conversation += [
                {"role": "assistant", "content": (result.content or "(empty)")[:2000]},
                {"role": "user", "content": CORRECTION.format(problem=str(error))},
            ]
    return answer


def _parse_any(text: str) -> Any:
    """A JSON object, or failing that a JSON list (small models often drop the wrapper)."""
    try:
        return parse_json_reply(text, expect=dict)
    except StructuredOutputError as error:
        try:
            return parse_json_reply(text, expect=list)
        except StructuredOutputError:
            raise error from None
