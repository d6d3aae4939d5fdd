"""Connection settings for one OpenAI-compatible model server."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class BackendConfig:
    """Where a model lives and how to talk to it.

    Works for vLLM, the llama.cpp server and hosted OpenAI-compatible APIs alike.
    """

    base_url: str  # e.g. http://127.0.0.1:8001/v1
    model: str
    api_key: str = "not-needed"
    # Read timeout: the longest gap allowed between two chunks of a stream, or the
    # whole wait for a non-streaming answer.
    timeout_s: float = 120.0
    connect_timeout_s: float = 5.0
    max_tokens: int = 2048
    temperature: float | None = None
    # R1-style chat templates put "<think>" into the prompt, so the output starts
    # inside an implicit reasoning block and only "</think>" shows up in the text.
    reasoning_starts_open: bool = False
    label: str = ""  # human name used in error messages, e.g. "thinking"

    def describe(self) -> str:
        """'the thinking model server at URL' — the phrase every error message uses."""
        name = f"{self.label} model server" if self.label else "model server"
        return f"the {name} at {self.base_url}"
