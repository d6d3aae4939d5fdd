"""A real calendar-feed server on loopback for the ICS tests: it serves what a test
puts at a path, answers conditional GETs with 304, and counts the requests."""

from __future__ import annotations

import hashlib
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Page:
    body: bytes = b""
    content_type: str = "text/calendar; charset=utf-8"
    status: int = 200
    validators: bool = True  # send ETag and Last-Modified
    stream_bytes: int = 0  # instead of `body`: this many bytes, chunked, made on the fly
    last_modified: str = field(default_factory=lambda: formatdate(usegmt=True))

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


def day(offset: int = 7) -> str:
    """A date inside the sync window (iCalendar form), `offset` days from today."""
    return (date.today() + timedelta(days=offset)).strftime("%Y%m%d")


def vevent(uid: str, summary: str, start: str = "", end: str = "", extra: str = "") -> str:
    start = start or f"{day()}T100000Z"
    end = end or f"{start[:8]}T110000Z"
    lines = ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260101T000000Z", f"DTSTART:{start}",
             f"DTEND:{end}", f"SUMMARY:{summary}"]  # fmt: skip
    return "\r\n".join([*lines, *([extra] if extra else []), "END:VEVENT"])


def calendar(*events: str, name: str = "Team holidays", time_zone: str = "") -> bytes:
    header = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fake//feed//EN"]
    header.append(f"X-WR-CALNAME:{name}")
    if time_zone:
        header.append(f"X-WR-TIMEZONE:{time_zone}")
    return ("\r\n".join([*header, *events, "END:VCALENDAR", ""])).encode()


class FakeFeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, Page] = {}
        self.requests: Counter[str] = Counter()
        self.conditional: Counter[str] = Counter()  # requests that carried a validator
        self.streamed = 0  # bytes of the last streamed page actually sent
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                server.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        return self.base_url + path

    def handle(self, request: BaseHTTPRequestHandler) -> None:
        path = request.path
        self.requests[path] += 1
        page = self.pages.get(path)
        if page is None:
            request.send_error(404)
            return
        if request.headers.get("If-None-Match") or request.headers.get("If-Modified-Since"):
            self.conditional[path] += 1
        if page.validators and request.headers.get("If-None-Match") == page.etag:
            request.send_response(304)
            request.send_header("ETag", page.etag)
            request.end_headers()
            return
        request.send_response(page.status)
        request.send_header("Content-Type", page.content_type)
        if page.validators:
            request.send_header("ETag", page.etag)
            request.send_header("Last-Modified", page.last_modified)
        if page.stream_bytes:
            self._stream(request, page.stream_bytes)
            return
        request.send_header("Content-Length", str(len(page.body)))
        request.end_headers()
        request.wfile.write(page.body)

    def _stream(self, request: BaseHTTPRequestHandler, size: int) -> None:
        """A huge feed without Content-Length (HTTP/1.0: the body ends when the connection
        closes), written in chunks until done or until the client hangs up."""
        request.end_headers()
        chunk = (b"BEGIN:VCALENDAR\r\n" + b"X-PADDING:" + b"x" * 65000 + b"\r\n")[:65536]
        sent = 0
        try:
            while sent < size:
                request.wfile.write(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.streamed = sent

    def __enter__(self) -> FakeFeedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
