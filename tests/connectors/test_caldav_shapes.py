"""Server shapes Radicale does not have, on a scripted WebDAV server on loopback: a
Nextcloud-style account (/.well-known/caldav redirect, principal without home, birthday
and task calendars, scheduling inboxes), an iCloud-style home on another host, and a
server with ETags and a ctag but no sync tokens."""

from __future__ import annotations

import threading
from base64 import b64encode
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
from lxml import etree

from connectors.base import PermanentError, Session
from connectors.bench.ics import vcalendar, vevent
from connectors.caldav.kind import CalDavKind

KIND = CalDavKind()
USER, PASSWORD = "olivia", "app-pass-1"
MULTI = (
    '<d:multistatus xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav" '
    'xmlns:cs="http://calendarserver.org/ns/" xmlns:x1="http://apple.com/ns/ical/">'
    "{}</d:multistatus>"
)
COLLECTION = "<d:resourcetype><d:collection/></d:resourcetype>"


def _response(href: str, props: str) -> str:
    return (
        f"<d:response><d:href>{escape(href)}</d:href><d:propstat><d:prop>{props}</d:prop>"
        "<d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>"
    )


def _href_answer(href: str, prop: str, target: str) -> tuple[int, str]:
    """A 207 naming `target` in `prop` (current-user-principal, calendar-home-set)."""
    return 207, MULTI.format(_response(href, f"<{prop}><d:href>{target}</d:href></{prop}>"))


def _calendar(href, name, comps=("VEVENT",), color="", write=True) -> str:
    comp = "".join(f'<c:comp name="{c}"/>' for c in comps)
    rights = "<d:privilege><d:read/></d:privilege>"
    if write:
        rights += "<d:privilege><d:write/></d:privilege>"
    return _response(
        href,
        "<d:resourcetype><d:collection/><c:calendar/></d:resourcetype>"
        f"<d:displayname>{name}</d:displayname>"
        + (f"<x1:calendar-color>{color}</x1:calendar-color>" if color else "")
        + f"<c:supported-calendar-component-set>{comp}</c:supported-calendar-component-set>"
        f"<d:current-user-privilege-set>{rights}</d:current-user-privilege-set>",
    )


@dataclass
class Script:
    """What the server answers: (method, path) -> (status, body or Location); a `calendar`
    path serves `objects` {name: (etag, ics)} with `ctag`, and no sync-token."""

    answers: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    calendar: str = ""
    objects: dict[str, tuple[str, str]] = field(default_factory=dict)
    ctag: str = '"1"'
    seen: list[str] = field(default_factory=list)


def _calendar_answer(script: Script, method: str, depth: str, body: bytes) -> str:
    base = script.calendar
    if method == "PROPFIND" and depth == "0":
        return MULTI.format(_response(base, f"<cs:getctag>{script.ctag}</cs:getctag>"))
    if method == "PROPFIND":
        items = [
            _response(base + name, f"<d:getetag>{escape(etag)}</d:getetag><d:resourcetype/>")
            for name, (etag, _) in script.objects.items()
        ]
        return MULTI.format(
            _response(base, "<d:resourcetype><d:collection/></d:resourcetype>") + "".join(items)
        )
    hrefs = [h.text for h in etree.fromstring(body).iter("{DAV:}href")]
    parts = []
    for href in hrefs:
        name = href.rsplit("/", 1)[-1]
        if name in script.objects:
            etag, ics = script.objects[name]
            data = f"<c:calendar-data>{escape(ics)}</c:calendar-data>"
            parts.append(_response(href, f"<d:getetag>{escape(etag)}</d:getetag>{data}"))
        else:
            missing = "<d:status>HTTP/1.1 404 Not Found</d:status>"
            parts.append(f"<d:response><d:href>{href}</d:href>{missing}</d:response>")
    return MULTI.format("".join(parts))


def _handler(script: Script):
    token = "Basic " + b64encode(f"{USER}:{PASSWORD}".encode()).decode()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.__class__.script.seen.append(f"{self.command} {self.path}")
            method, path = self.command, self.path
            if self.headers.get("Authorization") != token and not path.startswith("/.well-known"):
                return self._send(401, "", {"WWW-Authenticate": 'Basic realm="x"'})
            if script.calendar and path == script.calendar:
                return self._send(
                    207, _calendar_answer(script, method, self.headers.get("Depth", ""), body)
                )
            status, text = script.answers.get((method, path), (404, ""))
            if status in (301, 302):
                return self._send(status, "", {"Location": text})
            return self._send(status, text)

        def _send(self, status, text, headers=None):
            data = text.encode()
            self.send_response(status)
            for key, value in {
                "Content-Type": "application/xml; charset=utf-8",
                **(headers or {}),
            }.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_PROPFIND = do_REPORT = do_GET = do_PUT = _serve

        def log_message(self, *args):
            pass

    Handler.script = script
    return Handler


@pytest.fixture
def scripted():
    servers = []

    def start(script: Script) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(script))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _connect(url: str):
    return KIND.connect({"url": url, "username": USER, "password": PASSWORD})


def test_nextcloud_shape_from_the_site_address(scripted):
    dav, home = "/remote.php/dav/", f"/remote.php/dav/calendars/{USER}/"
    principal = f"/remote.php/dav/principals/users/{USER}/"
    script = Script(answers={
        ("PROPFIND", "/.well-known/caldav"): (301, dav),
        ("PROPFIND", dav): _href_answer(dav, "d:current-user-principal", principal),
        ("PROPFIND", principal): _href_answer(principal, "c:calendar-home-set", home),
        ("PROPFIND", home): (207, MULTI.format(
            _response(home, COLLECTION)
            + _calendar(home + "personal/", "Personal", ("VEVENT", "VTODO"), "#0082C9")
            + _calendar(home + "contact_birthdays/", "Contact birthdays", write=False)
            + _calendar(home + "tasks/", "Tasks", ("VTODO",))
            + _response(home + "inbox/", COLLECTION.replace("<d:collection/>",
                                                            "<d:collection/><c:schedule-inbox/>"))
            + _response(home + "trashbin/", COLLECTION)
        )),
    })  # fmt: skip
    base = scripted(script)
    connected = _connect(base + "/")  # the site, not the DAV root: "/" answers 404
    assert connected.config["home_url"] == base + home
    sources = {source.name: source for source in connected.sources}
    assert set(sources) == {"Personal", "Contact birthdays"}
    assert (sources["Personal"].color, sources["Personal"].writable) == ("#0082C9", True)
    assert sources["Contact birthdays"].writable is False
    assert sources["Personal"].remote_id == base + home + "personal/"


def test_icloud_shape_with_the_home_on_another_host(scripted):
    other = Script()
    home_base = scripted(other)
    home = "/123456/calendars/"
    other.answers[("PROPFIND", home)] = (207, MULTI.format(
        _response(home, COLLECTION)
        + _calendar(home + "home/", "Home", color="#FF2968FF")))  # fmt: skip
    principal = "/123456/principal/"
    front = Script(answers={
        ("PROPFIND", "/"): _href_answer("/", "d:current-user-principal", principal),
        ("PROPFIND", principal): _href_answer(principal, "c:calendar-home-set", home_base + home),
    })  # fmt: skip
    connected = _connect(scripted(front) + "/")
    [source] = connected.sources
    assert source.remote_id == f"{home_base}{home}home/" and source.color == "#FF2968"
    # Later syncs list the calendars on the home's host directly.
    session = Session(config=connected.config, secrets=connected.secrets)
    assert [s.name for s in KIND.sources(session)] == ["Home"]


def test_a_principal_without_calendars_is_a_clear_error(scripted):
    principal = "/principals/olivia/"
    script = Script(answers={
        ("PROPFIND", "/"): _href_answer("/", "d:current-user-principal", principal),
        ("PROPFIND", principal): (207, MULTI.format(_response(principal, "<d:displayname/>"))),
    })  # fmt: skip
    with pytest.raises(PermanentError, match="no calendar home"):
        _connect(scripted(script) + "/")


def test_a_server_without_sync_tokens_syncs_by_ctag_and_etags(scripted):
    start = datetime(2026, 5, 4, 9, tzinfo=UTC)
    script = Script(calendar="/cal/work/", objects={
        "a.ics": ('"a1"', vcalendar(vevent("a", "A", start))),
        "b.ics": ('"b1"', vcalendar(vevent("b", "B", start))),
    })  # fmt: skip
    script.answers[("PROPFIND", "/")] = _href_answer("/", "c:calendar-home-set", "/cal/")
    script.answers[("PROPFIND", "/cal/")] = (207, MULTI.format(_calendar("/cal/work/", "Work")))
    connected = _connect(scripted(script) + "/")
    session, [source] = (
        Session(config=connected.config, secrets=connected.secrets),
        connected.sources,
    )
    first = KIND.sync(session, source, {})
    assert first.complete and sorted(r.href for r in first.changed) == [
        "/cal/work/a.ics",
        "/cal/work/b.ics",
    ]
    assert first.state["ctag"] == '"1"' and first.state["sync_token"] == ""
    again = KIND.sync(session, source, first.state)
    assert again.unchanged and again.requests == 1
    script.objects["a.ics"] = ('"a2"', vcalendar(vevent("a", "A changed", start)))
    del script.objects["b.ics"]
    script.ctag = '"2"'
    script.seen.clear()
    changed = KIND.sync(session, source, first.state)
    assert not changed.complete and [r.href for r in changed.changed] == ["/cal/work/a.ics"]
    assert changed.deleted == ["/cal/work/b.ics"]
    assert changed.state["etags"] == {"/cal/work/a.ics": '"a2"'}
    assert script.seen == ["PROPFIND /cal/work/", "PROPFIND /cal/work/", "REPORT /cal/work/"]
