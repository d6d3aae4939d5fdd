"""An upload request over UPLOADS_MAX_REQUEST_BYTES is refused by the ASGI application
before Django reads (and spools to disk) any of it."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.testing import ApplicationCommunicator
from django.conf import settings
from django.urls import reverse


def _post(path: str, headers: list[tuple[bytes, bytes]], body: bytes | None = None) -> int:
    from assistant.asgi import application

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}  # fmt: skip

    async def go() -> int:
        app = ApplicationCommunicator(application, scope)
        if body is not None:
            await app.send_input({"type": "http.request", "body": body, "more_body": False})
        start = await app.receive_output(timeout=10)
        await app.receive_output(timeout=10)
        await app.wait(timeout=10)
        return start["status"]

    return asyncio.run(go())


@pytest.mark.django_db(transaction=True)
def test_an_oversized_upload_request_is_refused_unread():
    declared = settings.UPLOADS_MAX_REQUEST_BYTES + 1
    headers = [(b"content-type", b"multipart/form-data; boundary=xyz"),
               (b"content-length", str(declared).encode())]  # fmt: skip
    assert _post(reverse("connectors:uploads-add"), headers) == 413  # no body was sent at all
    headers[1] = (b"content-length", b"10")
    # Under the limit the request reaches Django, whose CSRF check answers it.
    assert _post(reverse("connectors:uploads-add"), headers, b"x" * 10) == 403
