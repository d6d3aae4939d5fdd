"""ASGI middleware: refuse an over-sized request body before Django reads any of it.

Django's ASGI handler reads the whole body into a temporary file before a view or an
upload handler runs, so a size check in the view comes too late to keep a huge upload
off the disk. Here a declared Content-Length over the limit is answered with 413 at
once, and a body that arrives bigger than declared (or chunked) is cut off at the limit.
Only the paths given are limited (the memory import, MEMORY_IMPORT_MAX_BYTES, and
uploads, UPLOADS_MAX_REQUEST_BYTES).
"""

from __future__ import annotations

import json
from collections.abc import Callable

TOO_LARGE = 413


class RequestBodyLimit:
    def __init__(
        self,
        app,
        *,
        limits: Callable[[], dict[str, int]],
        json_prefixes: tuple[str, ...] = (),
    ):
        self.app = app
        self.json_prefixes = json_prefixes  # paths whose refusal is a JSON error (the API)
        self._limits = limits  # called once, on the first request (URLs need Django set up)
        self._resolved: dict[str, int] | None = None

    def limit_for(self, path: str) -> int | None:
        if self._resolved is None:
            self._resolved = self._limits()
        for suffix, limit in self._resolved.items():
            if path.rstrip("/").endswith(suffix.rstrip("/")):
                return limit
        return None

    async def __call__(self, scope, receive, send):
        limit = self.limit_for(scope["path"]) if scope["type"] == "http" else None
        if limit is None:
            return await self.app(scope, receive, send)
        as_json = scope["path"].startswith(self.json_prefixes) if self.json_prefixes else False
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            return await _refuse(send, limit, as_json=as_json)
        received = 0
        cut_off = started = False

        async def limited_receive():
            nonlocal received, cut_off
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    cut_off = True
                    return {"type": "http.disconnect"}  # Django stops reading and gives up
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if cut_off and not started:
            await _refuse(send, limit, as_json=as_json)


def _content_length(scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _refuse(send, limit: int, *, as_json: bool = False) -> None:
    message = f"The request body is larger than the limit of {limit:,} bytes."
    content_type = b"text/plain; charset=utf-8"
    body = f"{message}\n".encode()
    if as_json:  # the API's one error shape (assistant/api/auth.py)
        error = {"type": "invalid_request_error", "code": "request_too_large", "message": message}
        body = json.dumps({"error": error}).encode()
        content_type = b"application/json"
    await send(
        {
            "type": "http.response.start",
            "status": TOO_LARGE,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
