"""Turning transport/SDK failures into one clear, user-facing error.

Every message names the server URL, because "connection refused" alone does not tell
an operator which of several configured model servers is down.
"""

from __future__ import annotations

import errno
import re
import socket
import ssl
from collections.abc import Iterator

import httpx
import openai

from .config import BackendConfig
from .events import StreamError

try:  # newer openai SDKs run on httpx2 and may leak its exceptions
    import httpx2
except ImportError:  # pragma: no cover - depends on the installed SDK
    httpx2 = None  # type: ignore[assignment]

_TIMEOUT_ERRORS: tuple[type[BaseException], ...] = (
    openai.APITimeoutError,
    httpx.TimeoutException,
    TimeoutError,
)
_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    openai.APIConnectionError,
    httpx.TransportError,
    ConnectionError,
)
if httpx2 is not None:
    _TIMEOUT_ERRORS += (httpx2.TimeoutException,)
    _CONNECTION_ERRORS += (httpx2.TransportError,)

SNIPPET_CHARS = 200


class InferenceError(Exception):
    """A failed model call; same fields as the StreamError event."""

    def __init__(self, message: str, kind: str, retryable: bool) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.retryable = retryable

    def to_event(self) -> StreamError:
        return StreamError(message=self.message, kind=self.kind, retryable=self.retryable)

    @classmethod
    def from_event(cls, event: StreamError) -> InferenceError:
        return cls(event.message, event.kind, event.retryable)


def is_timeout(exc: BaseException) -> bool:
    return isinstance(exc, _TIMEOUT_ERRORS)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, _CONNECTION_ERRORS)


def error_from_exception(
    exc: BaseException, config: BackendConfig, *, mid_stream: bool = False
) -> InferenceError:
    """Classify exc; mid_stream means the response headers had already arrived."""
    if isinstance(exc, InferenceError):
        return exc
    server = config.describe()
    subject = server[0].upper() + server[1:]

    if is_timeout(exc):
        if _chain_has(exc, "ConnectTimeout"):
            msg = f"{subject} did not accept a connection within {config.connect_timeout_s:g} s."
        elif mid_stream:
            msg = f"{subject} stopped sending: nothing arrived for {config.timeout_s:g} s."
        else:
            msg = f"{subject} did not answer within {config.timeout_s:g} s."
        return InferenceError(msg, "timeout", True)

    if isinstance(exc, openai.APIStatusError):
        code = exc.status_code
        retryable = code >= 500 or code == 429
        return InferenceError(
            f"{subject} returned HTTP {code}: {_status_snippet(exc)}", "status", retryable
        )

    if is_connection_error(exc):
        if mid_stream:
            return InferenceError(f"{subject} closed the stream early.", "unreachable", True)
        return InferenceError(
            f"Could not reach {server} ({_connection_reason(exc)}).", "unreachable", True
        )

    if isinstance(exc, openai.APIError) and not isinstance(exc, openai.APIResponseValidationError):
        # An {"error": ...} event inside an otherwise healthy stream (vLLM does this when
        # generation fails); whether a retry helps depends on the cause, so say no.
        return InferenceError(
            f"{subject} reported an error: {_shorten(exc.message)}", "status", False
        )

    detail = _shorten(f"{type(exc).__name__}: {exc}")
    return InferenceError(
        f"{subject} sent a response that could not be understood ({detail}).", "protocol", False
    )


def incomplete_stream_error(config: BackendConfig) -> InferenceError:
    """The body ended cleanly but without [DONE] or a finish_reason (a proxy or a crashed
    server closing it): the answer may be incomplete, and trying again can help."""
    server = config.describe()
    return InferenceError(
        f"{server[0].upper()}{server[1:]} ended the stream without finishing the answer "
        "(no finish reason and no [DONE]); it may be incomplete.",
        "protocol",
        True,
    )


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _chain_has(exc: BaseException, class_name: str) -> bool:
    return any(type(e).__name__ == class_name for e in _chain(exc))


def _connection_reason(exc: BaseException) -> str:
    chain = list(_chain(exc))
    text = " ".join(str(e) for e in chain).lower()

    def has(kind: type[BaseException]) -> bool:
        return any(isinstance(e, kind) for e in chain)

    if has(ConnectionRefusedError) or "refused" in text:
        return "connection refused"
    if has(socket.gaierror) or "name or service not known" in text or "nodename" in text:
        return "host name could not be resolved"
    if has(ssl.SSLError):
        return "TLS handshake failed"
    if any(getattr(e, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH) for e in chain):
        return "host unreachable"
    if "disconnected without sending" in text:
        return "it closed the connection without answering"
    return _shorten(str(chain[-1])).rstrip(".") or "connection failed"


def _status_snippet(exc: openai.APIStatusError) -> str:
    """The server's own explanation, short enough for a UI banner."""
    body = exc.body
    message: object = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict):
            message = inner.get("message") or inner.get("detail")
        elif isinstance(inner, str):
            message = inner
        message = message or body.get("detail") or body.get("message")
    elif isinstance(body, str):
        message = body
    if not message:
        try:
            message = exc.response.text
        except Exception:  # body not readable (already closed stream)
            message = exc.message
    return _shorten(str(message)) or "(empty response body)"


def _shorten(text: str, limit: int = SNIPPET_CHARS) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
