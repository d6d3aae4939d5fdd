"""The OpenAI-compatible endpoint's request checks and response shapes (no database).

`chat_request_parse` turns a /v1/chat/completions body into a ChatRequest or raises
BadRequest (a 400/413 with a stable code) before anything is saved. The chunk and
completion builders write the shapes the `openai` SDK reads: reasoning goes out both as
`reasoning_content` (DeepSeek, vLLM) and `reasoning` (OpenRouter, newer vLLM).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings

from assistant.profiles import allowed_profiles

OWNED_BY = "recall"
INSTRUCTION_ROLES = ("system", "developer")
TOOL_FIELDS = ("tools", "functions", "tool_choice", "function_call")
# Sampling an API client may set; kept on the answer (Message.request_options).
MAX_TEMPERATURE = 2.0


class BadRequest(Exception):
    """A request refused before anything is saved: `status` 400 or 413, a stable `code`,
    a message for people, and the body field at fault (`param`, OpenAI's name)."""

    def __init__(self, code: str, message: str, *, status: int = 400, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


@dataclass(frozen=True)
class ChatRequest:
    model: str  # the id the client asked for
    profile: str  # the profile it maps to
    text: str  # the last user message: the turn to answer
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (role, text)
    instructions: str = ""  # the client's system/developer message(s)
    stream: bool = False
    include_usage: bool = False
    options: dict = field(default_factory=dict)  # max_tokens, temperature
    incognito: bool = False


# -- models ----------------------------------------------------------------------------


def models_for(team) -> list[dict]:
    """The profiles a token reaching `team` (or none) may use, in settings order."""
    return [
        {"key": key, **settings.MODEL_PROFILES[key]}
        for key in allowed_profiles(team)
        if key in settings.MODEL_PROFILES
    ]


def model_list(team) -> dict:
    """GET /v1/models: one entry per profile; `backend_model` is the model it runs."""
    return {
        "object": "list",
        "data": [
            {
                "id": profile["key"],
                "object": "model",
                "created": 0,
                "owned_by": OWNED_BY,
                "label": profile["label"],
                "backend_model": profile["model"],
            }
            for profile in models_for(team)
        ],
    }


def profile_for_model(model: object, team) -> str:
    """The profile a requested model id names: a profile key, or its backend model name.
    One this token may not use (the team does not allow it) is as unknown as a typo."""
    profiles = models_for(team)
    valid = [p["key"] for p in profiles]
    if isinstance(model, str) and model:
        for profile in profiles:
            if model == profile["key"]:
                return profile["key"]
        for profile in profiles:
            if model == profile["model"]:
                return profile["key"]
        message = f"The model {model!r} does not exist or this token may not use it."
    else:
        message = "Say which model to use (the `model` field)."
    raise BadRequest(
        "model_not_found",
        f"{message} Use one of: {', '.join(valid)}.",
        param="model",
        valid_models=valid,
    )


# -- the request -------------------------------------------------------------------------


def body_size_check(*, declared: str | None, body: bytes | None = None) -> None:
    """413 for a declared Content-Length (or a body) over API_MAX_BODY_BYTES."""
    limit = settings.API_MAX_BODY_BYTES
    size = None
    if declared and declared.strip().isdigit():
        size = int(declared)
    if body is not None:
        size = max(size or 0, len(body))
    if size is not None and size > limit:
        raise BadRequest(
            "request_too_large",
            f"The request body is {size:,} bytes; the limit is {limit:,} "
            "(API_MAX_BODY_BYTES). Send a shorter history.",
            status=413,
        )


def _text_of(content: object, index: int) -> str:
    """A message's text: a string, or a list of text parts (joined). Any other part
    (image_url, input_audio, file) is refused: the configured models read text only."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise BadRequest(
            "invalid_content",
            f"messages[{index}].content must be a string or a list of text parts.",
            param=f"messages[{index}].content",
        )
    texts = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
            continue
        shown = kind if isinstance(kind, str) else type(part).__name__
        raise BadRequest(
            "unsupported_content",
            f"messages[{index}] has a {shown!r} part: this endpoint takes text only "
            "(no images, audio or files).",
            param=f"messages[{index}].content",
        )
    return "\n".join(texts)


def _messages(raw: object) -> tuple[str, list[tuple[str, str]], str]:
    """(instructions, earlier turns, the last user message) from `messages`."""
    if not isinstance(raw, list) or not raw:
        raise BadRequest(
            "invalid_messages", "`messages` must be a non-empty list.", param="messages"
        )
    instructions: list[str] = []
    turns: list[tuple[str, str]] = []
    for index, message in enumerate(raw):
        if not isinstance(message, dict):
            raise BadRequest(
                "invalid_messages", f"messages[{index}] must be an object.", param="messages"
            )
        role = message.get("role")
        if (
            role in ("tool", "function")
            or message.get("tool_calls")
            or message.get("function_call")
        ):
            raise BadRequest(
                "tools_not_supported",
                "Tool and function calls are not supported by this endpoint.",
                param=f"messages[{index}]",
            )
        text = _text_of(message.get("content"), index)
        if role in INSTRUCTION_ROLES:
            if text.strip():
                instructions.append(text.strip())
        elif role in ("user", "assistant"):
            turns.append((role, text))
        else:
            raise BadRequest(
                "invalid_messages",
                f"messages[{index}].role must be system, developer, user or assistant.",
                param=f"messages[{index}].role",
            )
    if not turns or turns[-1][0] != "user":
        raise BadRequest(
            "invalid_messages",
            "The last message (after any system message) must be the user's.",
            param="messages",
        )
    if not turns[-1][1].strip():
        raise BadRequest("invalid_messages", "The last user message is empty.", param="messages")
    return "\n\n".join(instructions), turns[:-1], turns[-1][1]


def _positive_int(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise BadRequest("invalid_value", f"`{name}` must be a positive integer.", param=name)
    return value


def _options(body: dict) -> dict:
    options: dict = {}
    max_tokens = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    if max_tokens is not None:
        options["max_tokens"] = max_tokens
    temperature = body.get("temperature")
    if temperature is not None:
        number = isinstance(temperature, int | float) and not isinstance(temperature, bool)
        if not number or not 0 <= temperature <= MAX_TEMPERATURE:
            raise BadRequest(
                "invalid_value", "`temperature` must be a number from 0 to 2.", param="temperature"
            )
        options["temperature"] = temperature
    return options


def _unsupported(body: dict) -> None:
    n = body.get("n")
    if n is not None and (isinstance(n, bool) or n != 1):
        raise BadRequest(
            "n_not_supported", "Only one choice per request is supported (n = 1).", param="n"
        )
    for name in TOOL_FIELDS:
        value = body.get(name)
        if value not in (None, [], "none"):
            raise BadRequest(
                "tools_not_supported",
                f"`{name}`: tool and function calling is not supported by this endpoint.",
                param=name,
            )


def _flag(body: dict, name: str) -> bool:
    value = body.get(name)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise BadRequest("invalid_value", f"`{name}` must be true or false.", param=name)
    return value


def chat_request_parse(*, body: bytes, team, memory_header: str = "") -> ChatRequest:
    """A checked chat completion request (BadRequest otherwise). `team`: the team the
    token reaches now (its allowed profiles); `memory_header`: X-Memory ("off": an
    incognito conversation, as the body's `"incognito": true`)."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("invalid_json", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("invalid_json", "The request body must be a JSON object.")
    _unsupported(data)
    instructions, history, text = _messages(data.get("messages"))
    profile = profile_for_model(data.get("model"), team)
    stream_options = data.get("stream_options")
    if stream_options is not None and not isinstance(stream_options, dict):
        raise BadRequest(
            "invalid_value", "`stream_options` must be an object.", param="stream_options"
        )
    incognito = _flag(data, "incognito") or memory_header.strip().lower() in ("off", "false", "0")
    return ChatRequest(
        model=data["model"],
        profile=profile,
        text=text,
        history=history,
        instructions=instructions,
        stream=_flag(data, "stream"),
        include_usage=_flag(stream_options or {}, "include_usage"),
        options=_options(data),
        incognito=incognito,
    )


# -- the response ------------------------------------------------------------------------


@dataclass
class Completion:
    """What is known of one answer: ids and the model for every chunk."""

    answer_id: int
    model: str
    created: int = field(default_factory=lambda: int(time.time()))

    @property
    def id(self) -> str:
        return f"chatcmpl-{self.answer_id}"

    def chunk(self, delta: dict, finish_reason: str | None = None) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    def usage_chunk(self, usage: dict) -> dict:
        return {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [],
            "usage": usage,
        }

    def whole(self, *, content: str, reasoning: str, finish_reason: str, usage: dict) -> dict:
        # Both reasoning fields always present (null without reasoning), as DeepSeek's API.
        message = {
            "role": "assistant",
            "content": content,
            "reasoning_content": reasoning or None,
            "reasoning": reasoning or None,
        }
        return {
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
            "usage": usage,
        }


def usage_of(prompt_tokens: int | None, completion_tokens: int | None) -> dict:
    """OpenAI's usage object; a count the backend did not report is 0."""
    prompt, completion = prompt_tokens or 0, completion_tokens or 0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def reasoning_delta(text: str) -> dict:
    return {"reasoning_content": text, "reasoning": text}


def sse_data(payload: dict | str) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)
    return f"data: {text}\n\n".encode()


def missing_tail(saved: str, sent: Sequence[str]) -> str:
    """The part of the saved answer a stream has not sent as content yet: when a model
    answered without thinking, what streamed as reasoning is saved as the answer."""
    streamed = "".join(sent)
    if saved.startswith(streamed):
        return saved[len(streamed) :]
    return ""
