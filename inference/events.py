"""Events produced by a streaming chat completion, in the order a caller sees them.

A stream yields any number of ReasoningDelta / ContentDelta / Usage events and then
exactly one terminal event: Done on success, or StreamError on failure (never both).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ErrorKind = Literal["unreachable", "timeout", "status", "protocol"]


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's visible chain of thought."""

    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the answer shown to the user."""

    text: str


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts reported by the server (only when it supports include_usage)."""

    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class StreamError:
    """The stream failed; message is a sentence fit for the UI and names the server URL.

    kind is one of "unreachable", "timeout", "status", "protocol". retryable says whether
    trying the same request again later can reasonably succeed.
    """

    message: str
    kind: str
    retryable: bool


@dataclass(frozen=True, slots=True)
class Done:
    """The stream finished normally.

    reasoning_was_answer: everything arrived as reasoning although it is really the answer
    (a non-reasoning model behind an R1-style "<think>"-in-prompt template, or a reasoning
    parser that never saw "</think>"); callers should show the reasoning as the answer.
    leading_content_was_reasoning: a "</think>" arrived without an opening tag, so the
    content streamed before it was in fact reasoning; callers may re-label it.
    finish_reason: why the model stopped ("stop", "length", ...); None when the server
    sent [DONE] without one. saw_done_marker: whether [DONE] arrived. A stream with
    neither ends in a StreamError instead.
    """

    finish_reason: str | None
    reasoning_was_answer: bool = False
    leading_content_was_reasoning: bool = False
    saw_done_marker: bool = True


StreamEvent: TypeAlias = ReasoningDelta | ContentDelta | Usage | StreamError | Done
