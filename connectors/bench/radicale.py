"""A real CalDAV server for tests and benchmarks: Radicale on loopback, its own storage.

`radicale_server(folder, users=...)` starts `python -m radicale` on a free port with
plain htpasswd logins and yields a `RadicaleServer`; `RadicaleAccount` does what a
calendar app would (make calendars, put and delete objects) over HTTP, and `bulk_write`
drops .ics files straight into Radicale's storage, which it reads on every request, so
a 10,000-event calendar is set up in seconds. The iCalendar builders live in
connectors/bench/ics.py.
"""

from __future__ import annotations

import base64
import http.client
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit
from xml.sax.saxutils import escape

from connectors.bench.ics import vcalendar, vevent
from inference.local_server import free_port

START_TIMEOUT_S = 30


@dataclass
class RadicaleServer:
    base_url: str  # no trailing slash
    folder: Path
    users: dict[str, str]
    process: subprocess.Popen
    log_path: Path
    htpasswd: Path = field(repr=False, default=Path())

    def collection_dir(self, user: str, calendar: str) -> Path:
        return self.folder / "storage" / "collection-root" / user / calendar

    def log_tail(self, lines: int = 40) -> str:
        with suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


def _write_htpasswd(server: RadicaleServer) -> None:
    text = "".join(f"{name}:{password}\n" for name, password in server.users.items())
    tmp = server.htpasswd.with_suffix(".tmp")
    tmp.write_text(text)
    tmp.replace(server.htpasswd)  # Radicale reads it on every login: swap it whole


def radicale_user_add(server: RadicaleServer, name: str, password: str) -> None:
    """Add (or change the password of) a login; takes effect on the next request."""
    if ":" in name or "\n" in name + password:
        raise ValueError("user names hold no ':' and neither holds a newline")
    server.users[name] = password
    _write_htpasswd(server)


def _config(folder: Path, port: int, htpasswd: Path) -> str:
    return f"""[server]
hosts = 127.0.0.1:{port}
max_connections = 20
delay_on_error = 0
[auth]
type = htpasswd
htpasswd_filename = {htpasswd}
htpasswd_encryption = plain
delay = 0
[rights]
type = owner_only
[storage]
filesystem_folder = {folder / "storage"}
[web]
type = none
[logging]
level = warning
mask_passwords = true
"""


def _wait_until_answering(server: RadicaleServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    host, port = urlsplit(server.base_url).hostname, urlsplit(server.base_url).port
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"Radicale exited at start:\n{server.log_tail()}")
        try:
            connection = http.client.HTTPConnection(host, port, timeout=2)
            connection.request("OPTIONS", "/")
            connection.getresponse().read()
            connection.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Radicale did not answer within {START_TIMEOUT_S}s:\n{server.log_tail()}")


@contextmanager
def radicale_server(
    folder: Path | str, users: dict[str, str] | None = None
) -> Iterator[RadicaleServer]:
    """Run Radicale on 127.0.0.1 with its storage under `folder`; stopped on exit."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    htpasswd = folder / "users"
    config_path = folder / "radicale.conf"
    config_path.write_text(_config(folder, port, htpasswd))
    log_path = folder / "radicale.log"
    server = RadicaleServer(
        base_url=f"http://127.0.0.1:{port}", folder=folder, users=dict(users or {}),
        process=None, log_path=log_path, htpasswd=htpasswd,  # type: ignore[arg-type]
    )  # fmt: skip
    _write_htpasswd(server)
    with log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config_path)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
    try:
        _wait_until_answering(server)
        yield server
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


class RadicaleError(RuntimeError):
    pass


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


class RadicaleAccount:
    """One user's calendars on a `RadicaleServer`, driven the way a calendar app does."""

    def __init__(self, server: RadicaleServer, user: str, password: str) -> None:
        self.server, self.user, self.password = server, user, password
        self.requests = 0

    # -- addresses --
    def calendar_path(self, calendar: str) -> str:
        return f"/{quote(self.user)}/{quote(calendar)}/"

    def calendar_url(self, calendar: str) -> str:
        return self.server.base_url + self.calendar_path(calendar)

    def object_path(self, calendar: str, name: str) -> str:
        return self.calendar_path(calendar) + quote(name)

    # -- HTTP --
    def request(
        self,
        method: str,
        path: str,
        body: str = "",
        headers: dict[str, str] | None = None,
        *,
        timeout: float | None = 30,
    ) -> Answer:
        """One request as this user (`timeout` None: wait as long as it takes)."""
        parts = urlsplit(self.server.base_url)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request(
                method, path, body=body.encode(),
                headers={"Authorization": f"Basic {token}", **(headers or {})},
            )  # fmt: skip
            response = connection.getresponse()
            answer = Answer(
                response.status,
                {k.lower(): v for k, v in response.getheaders()},
                response.read().decode(errors="replace"),
            )
        finally:
            connection.close()
        self.requests += 1
        return answer

    def _expect(self, answer: Answer, ok: tuple[int, ...], what: str) -> Answer:
        if answer.status not in ok:
            raise RadicaleError(f"{what}: HTTP {answer.status}\n{answer.body[:2000]}")
        return answer

    # -- calendars --
    def calendar_create(
        self, calendar: str, *, displayname: str = "", color: str = "", time_zone: str = ""
    ) -> str:
        """MKCALENDAR (VEVENT only); returns the calendar's URL."""
        props = f"<D:displayname>{escape(displayname or calendar)}</D:displayname>"
        if color:
            props += f"<I:calendar-color>{escape(color)}</I:calendar-color>"
        if time_zone:
            props += f"<C:calendar-timezone>{escape(time_zone)}</C:calendar-timezone>"
        body = (
            '<?xml version="1.0" encoding="utf-8"?>'
            '<C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav" '
            'xmlns:I="http://apple.com/ns/ical/"><D:set><D:prop>'
            f'{props}<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
            "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
        )
        path = self.calendar_path(calendar)
        self._expect(self.request("MKCALENDAR", path, body), (201,), f"MKCALENDAR {path}")
        return self.server.base_url + path

    def calendar_delete(self, calendar: str) -> None:
        path = self.calendar_path(calendar)
        self._expect(self.request("DELETE", path), (200, 204), f"DELETE {path}")

    # -- objects --
    def object_put(self, calendar: str, name: str, ics: str, *, if_match: str = "") -> str:
        """Create or replace one object; returns its new ETag."""
        path = self.object_path(calendar, name)
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if if_match:
            headers["If-Match"] = if_match
        answer = self._expect(self.request("PUT", path, ics, headers), (201, 204), f"PUT {path}")
        return answer.headers.get("etag", "")

    def object_get(self, calendar: str, name: str) -> str:
        path = self.object_path(calendar, name)
        return self._expect(self.request("GET", path), (200,), f"GET {path}").body

    def object_get_href(self, href: str) -> str:
        return self._expect(self.request("GET", href), (200,), f"GET {href}").body

    def object_delete(self, calendar: str, name: str) -> None:
        path = self.object_path(calendar, name)
        self._expect(self.request("DELETE", path), (200, 204), f"DELETE {path}")

    def object_names(self, calendar: str) -> list[str]:
        """The object file names in the calendar, read from Radicale's storage."""
        folder = self.server.collection_dir(self.user, calendar)
        return sorted(
            p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
        )

    def bulk_write(self, calendar: str, objects: dict[str, str]) -> None:
        """Write `{file name: iCalendar text}` straight into the calendar's storage folder
        (the calendar must exist). Radicale notices on the next request."""
        folder = self.server.collection_dir(self.user, calendar)
        if not folder.is_dir():
            raise RadicaleError(f"no calendar folder {folder}: create the calendar first")
        for name, ics in objects.items():
            if "/" in name or name.startswith("."):
                raise ValueError(f"bad object name {name!r}")
            tmp = folder / f".{name}.tmp"
            tmp.write_text(ics, newline="")
            tmp.replace(folder / name)


__all__ = [
    "RadicaleAccount",
    "RadicaleError",
    "RadicaleServer",
    "radicale_server",
    "radicale_user_add",
    "vcalendar",
    "vevent",
]
