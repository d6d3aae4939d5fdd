"""Extracting candidate memories about the user from a stretch of conversation.

The model gets numbered messages and answers in JSON; each candidate names the user
message it came from and quotes it, so every extracted memory keeps its provenance.
Candidates are checked one by one: a bad one is dropped, not the whole reply.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard

from pydantic import BaseModel, ConfigDict, Field

from inference import BackendConfig, Usage
from inference.structured import StructuredOutputError, json_schema_of
from inference.structured_ask import ask_json
from memory.consolidation.transcript import Transcript
from memory.models import Kind

EXTRACTED_KINDS = (Kind.PREFERENCE, Kind.FACT, Kind.PLAN, Kind.INSTRUCTION)
MAX_CANDIDATES = 15
MAX_MEMORY_CHARS = 500
MIN_MEMORY_WORDS = 2
MAX_QUOTE_CHARS = 500
DEFAULT_CONFIDENCE = 0.6
KIND_ALIASES = {
    "preferences": Kind.PREFERENCE,
    "like": Kind.PREFERENCE,
    "dislike": Kind.PREFERENCE,
    "facts": Kind.FACT,
    "plans": Kind.PLAN,
    "goal": Kind.PLAN,
    "instructions": Kind.INSTRUCTION,
    "rule": Kind.INSTRUCTION,
}

EXTRACTION_SYSTEM = (
    "You pick out what an AI assistant should remember about its user from a conversation. "
    "Keep only lasting things the USER said about themselves: preferences, facts about "
    "their life, plans, and standing instructions for the assistant. Skip small talk, "
    "one-off questions, and anything only the assistant said.\n"
    "For each memory give:\n"
    '- "text": one short sentence about the user, e.g. "The user is vegetarian."\n'
    '- "kind": "preference", "fact", "plan" or "instruction"\n'
    '- "message": the number of the user message it comes from (0 if none)\n'
    '- "quote": the user\'s own words that show it\n'
    '- "confidence": from 0 to 1, how sure you are it is true and lasting\n'
    'Reply with JSON only: {"memories": [...]}, with an empty list when there is nothing '
    "worth remembering."
)


# The shape the model is asked to follow (no docstrings: they would become schema
# descriptions). Replies are still read leniently, item by item, by candidates_from_reply.
class ExtractedMemory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=200)
    kind: Literal[tuple(str(kind) for kind in EXTRACTED_KINDS)]  # type: ignore[valid-type]
    message: int
    quote: str = Field(max_length=200)
    confidence: float


class ExtractedMemories(BaseModel):
    model_config = ConfigDict(extra="forbid")

    memories: list[ExtractedMemory] = Field(max_length=MAX_CANDIDATES)


# OpenAI's strict mode refuses length limits; llama.cpp's grammars enforce them, so a small
# local model cannot ramble past the output limit and cut its JSON short.
MEMORIES_SCHEMA = json_schema_of(ExtractedMemories, leave_out=("maxLength", "maxItems"))
BOUNDED_MEMORIES_SCHEMA = json_schema_of(ExtractedMemories)


@dataclass(frozen=True)
class Candidate:
    text: str
    kind: str
    confidence: float
    quote: str = ""
    message_id: int | None = None  # the user message it came from, when the model cited one


@dataclass
class Extraction:
    candidates: list[Candidate] = field(default_factory=list)
    dropped: int = 0  # items of the reply that were unusable on their own
    parse_failures: int = 0
    error: str = ""  # set when the model gave up (no usable JSON after the retry)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: list[Usage] = field(default_factory=list)  # each call's reported tokens


def extraction_messages(*, transcript: Transcript, summary: str) -> list[dict[str, str]]:
    user = (
        f"Summary of these messages (context):\n{summary.strip() or '(none)'}\n\n"
        f"Messages:\n{transcript.render()}\n\nReply with the JSON object now."
    )
    return [{"role": "system", "content": EXTRACTION_SYSTEM}, {"role": "user", "content": user}]


def _memory_list(value: Any) -> list:
    """The list of memories in a reply: {"memories": [...]}, a bare list, one memory, or
    the only list-valued field of an object with another key."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if isinstance(value.get("memories"), list):
            return value["memories"]
        if isinstance(value.get("text"), str):
            return [value]
        lists = [item for item in value.values() if isinstance(item, list)]
        if len(lists) == 1:
            return lists[0]
    raise StructuredOutputError('expected {"memories": [...]}, a list of memory objects.')


def normalised(text: str) -> str:
    """Text compared for sameness: lower case, runs of non-word characters as one space
    (a quote in its message, a candidate among its batch and against existing memories)."""
    return re.sub(r"\W+", " ", text).strip().lower()


def _usable_text(text: Any) -> TypeGuard[str]:
    """A short statement in words: not empty, not a bare number or token, not an essay."""
    if not isinstance(text, str) or len(text) > MAX_MEMORY_CHARS:
        return False
    words = [word for word in text.split() if any(char.isalpha() for char in word)]
    return len(words) >= MIN_MEMORY_WORDS


def _kind(value: Any) -> str:
    name = str(value or "").strip().lower()
    if name in EXTRACTED_KINDS:
        return name
    return KIND_ALIASES.get(name, Kind.FACT)


def _confidence(value: Any) -> float:
    if isinstance(value, str):
        try:
            value = float(value.strip().rstrip("%")) / (100 if "%" in value else 1)
        except ValueError:
            return DEFAULT_CONFIDENCE
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        return DEFAULT_CONFIDENCE
    if 1 < value <= 100:  # a percentage
        value = value / 100
    return round(min(1.0, max(0.0, float(value))), 3)


def _provenance(item: dict, transcript: Transcript) -> tuple[int | None, str]:
    """The cited user message and a quote that really is in it (else an excerpt of it)."""
    try:
        number = int(item.get("message") or 0)
    except (TypeError, ValueError):
        number = 0
    cited = transcript.by_number(number)
    quote = str(item.get("quote") or "").strip()[:MAX_QUOTE_CHARS]
    if cited is None or cited.role != "user":
        return None, quote
    if quote and normalised(quote) in normalised(cited.content):
        return cited.message_id, quote
    return cited.message_id, cited.content.strip()[:MAX_QUOTE_CHARS]


def candidates_from_reply(value: Any, transcript: Transcript) -> tuple[list[Candidate], int]:
    """Usable candidates and how many items were dropped. Raises StructuredOutputError
    when the reply as a whole is not a list of memories."""
    items = _memory_list(value)
    candidates: list[Candidate] = []
    seen: set[str] = set()
    dropped = 0
    for item in items:
        text = item.get("text") if isinstance(item, dict) else item
        if not _usable_text(text):
            dropped += 1
            continue
        text = " ".join(text.split())
        if normalised(text) in seen:
            dropped += 1
            continue
        seen.add(normalised(text))
        details = item if isinstance(item, dict) else {}
        message_id, quote = _provenance(details, transcript)
        candidates.append(
            Candidate(
                text=text,
                kind=_kind(details.get("kind")),
                confidence=_confidence(details.get("confidence", DEFAULT_CONFIDENCE)),
                quote=quote,
                message_id=message_id,
            )
        )
    return candidates[:MAX_CANDIDATES], dropped + max(0, len(candidates) - MAX_CANDIDATES)


def memories_extract(
    *, config: BackendConfig, transcript: Transcript, summary: str, max_tokens: int
) -> Extraction:
    """Candidate memories from `transcript`. Never raises on model output; raises
    InferenceError on transport trouble (the task retries those)."""
    dropped = 0

    def validate(value: Any) -> list[Candidate]:
        nonlocal dropped
        candidates, dropped = candidates_from_reply(value, transcript)
        return candidates

    answer = ask_json(
        dataclasses.replace(config, max_tokens=max_tokens),
        extraction_messages(transcript=transcript, summary=summary),
        schema_name="memories",
        schema=MEMORIES_SCHEMA,
        validate=validate,
        grammar_schema=BOUNDED_MEMORIES_SCHEMA,
    )
    error = "" if answer.ok else f"Memory extraction gave up after a retry: {answer.error}"
    return Extraction(
        candidates=answer.value or [],
        dropped=dropped,
        parse_failures=answer.failures,
        error=error,
        prompt_tokens=answer.prompt_tokens,
        completion_tokens=answer.completion_tokens,
        calls=list(answer.calls),
    )
