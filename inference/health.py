"""Is a model server there? List its models and do a tiny streamed round trip
(`manage.py inference_check`)."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

from openai import AsyncOpenAI

from .client import make_async_client
from .config import BackendConfig
from .events import ContentDelta, Done, ReasoningDelta, StreamError
from .stream import stream_chat

PING_PROMPT = "Reply with the single word: pong"


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    base_url: str
    model: str
    models: tuple[str, ...]  # empty when the server does not list models
    model_listed: bool | None  # None: the model list was unavailable
    reply: str
    reasoning: str
    latency_ms: float | None  # whole round trip of the tiny completion
    first_token_ms: float | None
    error: str | None


async def check_backend(config: BackendConfig, *, client: AsyncOpenAI | None = None) -> CheckResult:
    """List models (optional; many hosted APIs hide them) and do a tiny round trip."""
    own_client = client is None
    client = client or make_async_client(config)
    models: tuple[str, ...] = ()
    model_listed: bool | None = None
    reply, reasoning, error = [], [], None
    first_token_ms: float | None = None
    try:
        try:
            page = await client.models.list()
            models = tuple(str(m.id) for m in page.data)
            model_listed = config.model in models
        except Exception:
            pass  # not fatal: the round trip below is the real test
        ping_config = dataclasses.replace(config, max_tokens=16)
        started = time.perf_counter()
        async for event in stream_chat(
            ping_config, [{"role": "user", "content": PING_PROMPT}], client=client
        ):
            if isinstance(event, ReasoningDelta | ContentDelta) and first_token_ms is None:
                first_token_ms = (time.perf_counter() - started) * 1000
            if isinstance(event, ContentDelta):
                reply.append(event.text)
            elif isinstance(event, ReasoningDelta):
                reasoning.append(event.text)
            elif isinstance(event, StreamError):
                error = event.message
            elif isinstance(event, Done) and event.reasoning_was_answer:
                reply, reasoning = reasoning, []
        latency_ms = (time.perf_counter() - started) * 1000
    finally:
        if own_client:
            await client.close()
    return CheckResult(
        ok=error is None,
        base_url=config.base_url,
        model=config.model,
        models=models,
        model_listed=model_listed,
        reply="".join(reply).strip(),
        reasoning="".join(reasoning).strip(),
        latency_ms=None if error else latency_ms,
        first_token_ms=first_token_ms,
        error=error,
    )


__all__ = ["CheckResult", "check_backend"]
