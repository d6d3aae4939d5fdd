"""The CalDAV kind against a real Radicale: connecting, discovery, writing, and the
errors a user sees (in words) when the server, the address or the password is wrong."""

from __future__ import annotations

import ipaddress
import ssl
import threading
import time
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from icalendar import Calendar

from connectors.base import EventDraft, PermanentError, Session, TransientError
from connectors.bench.radicale import vcalendar, vevent
from connectors.caldav.forms import CalDavForm
from connectors.caldav.kind import CalDavKind
from connectors.registry import kinds
from inference.local_server import free_port

BERLIN = ZoneInfo("Europe/Berlin")
LOOPBACK = ipaddress.ip_address("127.0.0.1")
KIND = CalDavKind()


def _connect(account, url=None, password=None):
    return KIND.connect(
        {
            "url": url or account.server.base_url + "/",
            "username": account.user,
            "password": account.password if password is None else password,
        }
    )


def _session(connected) -> Session:
    return Session(config=dict(connected.config), secrets=dict(connected.secrets))


class _Plain(BaseHTTPRequestHandler):
    """A web server that is not a CalDAV server (or a broken one: `status`, `delay`)."""

    status = 200
    delay = 0.0
    extra_headers: dict[str, str] = {}

    def _answer(self):
        time.sleep(self.delay)
        body = b"<html><body>Welcome to my homepage</body></html>"
        self.send_response(self.status)
        for key, value in self.extra_headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PROPFIND = do_REPORT = do_OPTIONS = _answer

    def log_message(self, *args):
        pass


@pytest.fixture
def plain_server():
    servers = []

    def start(status=200, delay=0.0, headers=None, tls=None):
        attributes = {"status": status, "delay": delay, "extra_headers": headers or {}}
        server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Plain,), attributes))
        if tls is not None:
            server.socket = tls.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        scheme = "https" if tls is not None else "http"
        return f"{scheme}://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_the_kind_is_registered_and_writable():
    kind = kinds()["caldav"]
    assert kind.name == "CalDAV" and kind.writable and not kind.uses_oauth
    assert "Nextcloud" in kind.description and "iCloud" in kind.description


def test_connect_discovers_calendars_with_name_colour_zone_and_rights(radicale_account):
    berlin = vcalendar("", time_zones=["Europe/Berlin"])
    radicale_account.calendar_create(
        "work", displayname="Work", color="#3366ffff", time_zone=berlin
    )
    radicale_account.calendar_create("home", displayname="Home")
    connected = _connect(radicale_account)
    by_name = {source.name: source for source in connected.sources}
    assert set(by_name) == {"Work", "Home"}
    work = by_name["Work"]
    assert work.remote_id == radicale_account.calendar_url("work")
    assert (work.color, work.time_zone, work.writable) == ("#3366ff", "Europe/Berlin", True)
    assert by_name["Home"].time_zone == ""
    assert connected.config["username"] == radicale_account.user
    assert connected.config["home_url"].endswith(f"/{radicale_account.user}/")
    assert connected.config["auth_type"] == "basic"
    assert connected.secrets == {"password": radicale_account.password}
    assert radicale_account.password not in str(connected.config)


def test_connect_from_a_calendar_address_finds_the_whole_account(radicale_account):
    radicale_account.calendar_create("work", displayname="Work")
    radicale_account.calendar_create("home", displayname="Home")
    connected = _connect(radicale_account, url=radicale_account.calendar_url("work"))
    assert {source.name for source in connected.sources} == {"Work", "Home"}


def test_task_lists_are_not_offered(radicale_account):
    radicale_account.calendar_create("work", displayname="Work")
    body = (
        '<?xml version="1.0"?><C:mkcalendar xmlns:D="DAV:" '
        'xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop>'
        "<D:displayname>Tasks</D:displayname><C:supported-calendar-component-set>"
        '<C:comp name="VTODO"/></C:supported-calendar-component-set></D:prop></D:set>'
        "</C:mkcalendar>"
    )
    assert (
        radicale_account.request("MKCALENDAR", radicale_account.calendar_path("tasks"), body).status
        == 201
    )
    assert [source.name for source in _connect(radicale_account).sources] == ["Work"]


def test_wrong_password_is_permanent_and_says_so(radicale_account):
    with pytest.raises(PermanentError) as caught:
        _connect(radicale_account, password="not-the-password")
    assert "wrong user name or password" in caught.value.message
    assert "app-specific password" in caught.value.hint


def test_a_web_server_that_is_not_caldav_is_named_as_such(plain_server):
    url = plain_server()
    with pytest.raises(PermanentError) as caught:
        KIND.connect({"url": url, "username": "u", "password": "p"})
    assert "answered but is not a CalDAV server" in caught.value.message
    assert "remote.php/dav" in caught.value.hint


def test_a_server_answering_501_to_webdav_is_not_caldav(plain_server):
    url = plain_server(status=501)
    with pytest.raises(PermanentError, match="not a CalDAV server"):
        KIND.connect({"url": url, "username": "u", "password": "p"})


def _self_signed(folder) -> ssl.SSLContext:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(LOOPBACK)]), critical=False)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    return context


def test_an_untrusted_certificate_is_permanent_with_a_hint(plain_server, tmp_path):
    url = plain_server(tls=_self_signed(tmp_path))
    with pytest.raises(PermanentError) as caught:
        KIND.connect({"url": url, "username": "u", "password": "p"})
    assert "certificate is not trusted" in caught.value.message
    assert "self-signed" in caught.value.hint


def test_a_login_scheme_caldav_cannot_speak_is_permanent(plain_server):
    url = plain_server(status=401, headers={"WWW-Authenticate": "NTLM"})
    with pytest.raises(PermanentError, match="login method"):
        KIND.connect({"url": url, "username": "u", "password": "p"})


def test_a_refused_port_is_transient_and_names_the_url():
    url = f"http://127.0.0.1:{free_port()}/dav/"
    with pytest.raises(TransientError) as caught:
        KIND.connect({"url": url, "username": "u", "password": "p"})
    assert url in caught.value.message


def test_server_errors_are_transient(plain_server):
    url = plain_server(status=500)
    with pytest.raises(TransientError, match="HTTP 500"):
        KIND.connect({"url": url, "username": "u", "password": "p"})


def test_a_server_that_does_not_answer_in_time_is_transient(plain_server, settings):
    settings.CONNECTOR_HTTP_TIMEOUT_S = 1
    url = plain_server(delay=3)
    with pytest.raises(TransientError, match="did not answer within 1 seconds"):
        KIND.connect({"url": url, "username": "u", "password": "p"})


def test_the_form_takes_a_password_it_never_shows_and_checks_the_address():
    form = CalDavForm(data={"url": "https://dav.example.org/", "username": "u", "password": "p w "})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["password"] == "p w "  # passwords are not stripped
    assert 'type="password"' in str(form["password"]) and "p w" not in str(form["password"])
    for bad in ("ftp://dav.example.org/", "https://u:p@dav.example.org/", "dav.example.org"):
        form = CalDavForm(data={"url": bad, "username": "u", "password": "p"})
        assert not form.is_valid() and "url" in form.errors


def test_an_unchanged_calendar_costs_one_request(radicale_account):
    radicale_account.calendar_create("work")
    radicale_account.object_put(
        "work", "a.ics", vcalendar(vevent("a", "A", datetime(2026, 5, 4, 9, tzinfo=BERLIN)))
    )
    connected = _connect(radicale_account)
    session, source = _session(connected), connected.sources[0]
    first = KIND.sync(session, source, {})
    assert first.complete and [r.href for r in first.changed] == [
        f"/{radicale_account.user}/work/a.ics"
    ]
    again = KIND.sync(session, source, first.state)
    assert again.unchanged and again.requests == 1 and again.state == first.state


def test_changes_come_by_sync_token_and_a_rejected_token_falls_back_to_a_listing(
    radicale_account,
):
    radicale_account.calendar_create("work")
    for uid in ("a", "b"):
        radicale_account.object_put(
            "work",
            f"{uid}.ics",
            vcalendar(vevent(uid, uid, datetime(2026, 5, 4, 9, tzinfo=BERLIN))),
        )
    connected = _connect(radicale_account)
    session, source = _session(connected), connected.sources[0]
    state = KIND.sync(session, source, {}).state
    radicale_account.object_delete("work", "a.ics")
    radicale_account.object_put(
        "work", "c.ics", vcalendar(vevent("c", "c", datetime(2026, 5, 5, 9, tzinfo=BERLIN)))
    )
    prefix = f"/{radicale_account.user}/work/"
    by_token = KIND.sync(session, source, state)
    assert not by_token.complete and by_token.requests == 3  # state, sync REPORT, multiget
    assert [r.href for r in by_token.changed] == [prefix + "c.ics"]
    assert by_token.deleted == [prefix + "a.ics"]
    # A token the server no longer knows (403 + DAV:valid-sync-token) is no wrong password.
    expired = {**state, "sync_token": "http://radicale.org/ns/sync/forgotten"}
    listed = KIND.sync(session, source, expired)
    assert [r.href for r in listed.changed] == [prefix + "c.ics"]
    assert listed.deleted == [prefix + "a.ics"]
    assert set(listed.state["etags"]) == {prefix + "b.ics", prefix + "c.ics"}


def test_create_event_lands_in_the_calendar(radicale_account):
    radicale_account.calendar_create("work")
    connected = _connect(radicale_account)
    session, source = _session(connected), connected.sources[0]
    draft = EventDraft(
        title="Dentist", start=datetime(2026, 3, 30, 9), end=datetime(2026, 3, 30, 10),
        time_zone="Europe/Berlin", location="Main St 1", description="Bring the card",
    )  # fmt: skip
    href = KIND.create_event(session, source, draft)
    assert href.startswith(f"/{radicale_account.user}/work/") and href.endswith(".ics")
    event = Calendar.from_ical(radicale_account.object_get_href(href)).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Dentist" and str(event["LOCATION"]) == "Main St 1"
    assert event["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert event["DTSTART"].dt == datetime(2026, 3, 30, 9, tzinfo=BERLIN)
    all_day = EventDraft(title="Holiday", start=date(2026, 8, 3), end=date(2026, 8, 5))
    href = KIND.create_event(session, source, all_day)
    event = Calendar.from_ical(radicale_account.object_get_href(href)).walk("VEVENT")[0]
    assert (event["DTSTART"].dt, event["DTEND"].dt) == (date(2026, 8, 3), date(2026, 8, 5))
    assert len(radicale_account.object_names("work")) == 2


def test_create_event_refuses_a_read_only_calendar(radicale_account):
    radicale_account.calendar_create("work")
    connected = _connect(radicale_account)
    source = connected.sources[0]
    source.writable = False
    draft = EventDraft(title="x", start=date(2026, 8, 3), end=date(2026, 8, 4))
    with pytest.raises(PermanentError, match="read-only"):
        KIND.create_event(_session(connected), source, draft)
    assert radicale_account.object_names("work") == []


def test_an_answer_larger_than_the_limit_is_refused(radicale_account, settings):
    radicale_account.calendar_create("work")
    big = vevent("big", "Big", datetime(2026, 5, 4, 9, tzinfo=BERLIN), description="x" * 6000)
    radicale_account.object_put("work", "big.ics", vcalendar(big))
    connected = _connect(radicale_account)
    settings.CONNECTOR_MAX_FEED_BYTES = 4096
    with pytest.raises(PermanentError) as caught:
        KIND.sync(_session(connected), connected.sources[0], {})
    assert "more than the 4096" in caught.value.message
    assert "CONNECTOR_MAX_FEED_BYTES" in caught.value.hint
