"""Test support, not shipped in the wheel: a scripted OpenAI-compatible server.

Tests and benchmarks (bench_chat, run from a source checkout) import it from here.
"""

from .backend import DEFAULT_ANSWER, RecordedRequest, ScriptedBackend, default_responder

__all__ = ["DEFAULT_ANSWER", "RecordedRequest", "ScriptedBackend", "default_responder"]
