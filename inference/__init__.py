"""Model-server access for the assistant: a plain package with no Django imports.

Talks to any OpenAI-compatible server (vLLM, llama.cpp server, hosted APIs) through
the official openai SDK. inference.testing (a scripted fake server) is not imported
here; import it explicitly from tests and benchmarks.
"""

from .client import (
    CheckResult,
    CompletionResult,
    check_backend,
    complete_chat,
    get_async_client,
    get_client,
    make_async_client,
    make_client,
    stream_chat,
)
from .config import BackendConfig
from .errors import InferenceError, error_from_exception
from .events import ContentDelta, Done, ReasoningDelta, StreamError, StreamEvent, Usage
from .reasoning import SplitText, ThinkTagSplitter, split_reasoning
from .tokens import estimate_message_tokens, estimate_tokens

__all__ = [
    "BackendConfig",
    "CheckResult",
    "CompletionResult",
    "ContentDelta",
    "Done",
    "InferenceError",
    "ReasoningDelta",
    "SplitText",
    "StreamError",
    "StreamEvent",
    "ThinkTagSplitter",
    "Usage",
    "check_backend",
    "complete_chat",
    "error_from_exception",
    "estimate_message_tokens",
    "estimate_tokens",
    "get_async_client",
    "get_client",
    "make_async_client",
    "make_client",
    "split_reasoning",
    "stream_chat",
]
