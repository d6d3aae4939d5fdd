"""Model-server access for the assistant: a plain package with no Django imports.

Talks to any OpenAI-compatible server (vLLM, llama.cpp server, hosted APIs) through
the official openai SDK; asks for JSON replies (structured_ask.py) and launches the
local llama.cpp server (local_server.py). The scripted fake server for tests and
benchmarks is not part of it: see scripted_backend/ at the repository root.
"""

from .client import (
    CompletionResult,
    complete_chat,
    get_async_client,
    get_client,
    make_async_client,
    make_client,
)
from .config import BackendConfig
from .errors import InferenceError, error_from_exception
from .events import ContentDelta, Done, ReasoningDelta, StreamError, StreamEvent, Usage
from .health import CheckResult, check_backend
from .reasoning import SplitText, ThinkTagSplitter, split_reasoning
from .stream import stream_chat
from .structured import StructuredOutputError, json_schema_of, parse_json_reply
from .structured_ask import JsonAnswer, ask_json
from .tokens import estimate_message_tokens, estimate_tokens

__all__ = [
    "BackendConfig",
    "CheckResult",
    "CompletionResult",
    "ContentDelta",
    "Done",
    "InferenceError",
    "JsonAnswer",
    "ReasoningDelta",
    "SplitText",
    "StreamError",
    "StreamEvent",
    "StructuredOutputError",
    "ThinkTagSplitter",
    "Usage",
    "ask_json",
    "check_backend",
    "complete_chat",
    "error_from_exception",
    "estimate_message_tokens",
    "estimate_tokens",
    "get_async_client",
    "get_client",
    "json_schema_of",
    "make_async_client",
    "make_client",
    "parse_json_reply",
    "split_reasoning",
    "stream_chat",
]
