"""Connecting a WebDAV drive against real servers: WsgiDAV for the account, a plain web
server for "not WebDAV", a closed port for "unreachable"; and what a listing holds."""

from __future__ import annotations

import http.server
import threading
from contextlib import contextmanager

import pytest

from connectors.base import PermanentError, Session, TransientError
from connectors.webdav.client import NotWebDav
from connectors.webdav.forms import WebDavForm
from inference.local_server import free_port
from tests.connectors.drive.conftest import KIND
from tests.connectors.drive.dav_server import MOUNT


def _connect(server, **overrides):
    data = {"url": server.url, "username": server.username, "password": server.password}
    return KIND.connect({**data, **overrides})


def test_connect_offers_the_root_and_each_top_level_folder(dav):
    dav.write("Reports/2024/q1.txt", "Quarter one.")
    dav.write("Notes/todo.md", "# Todo")
    dav.write("loose.txt", "A file at the top.")
    dav.write(".config/secret.txt", "hidden")
    connected = _connect(dav)
    assert [(s.name, s.remote_id) for s in connected.sources] == [
        ("All files", f"{MOUNT}/"),
        ("Notes", f"{MOUNT}/Notes/"),
        ("Reports", f"{MOUNT}/Reports/"),
    ]
    assert connected.config == {"url": dav.url, "username": "ana", "auth_type": "basic"}
    assert connected.secrets == {"password": dav.password}
    assert connected.label == "ana on 127.0.0.1"
    assert connected.display_url == dav.url


def test_an_address_without_its_last_slash_works(dav):
    dav.write("Notes/a.txt", "a")
    connected = _connect(dav, url=dav.url.rstrip("/"))
    assert connected.config["url"] == dav.url
    assert [s.name for s in connected.sources] == ["All files", "Notes"]


def test_a_wrong_password_names_the_address_and_the_fix(dav):
    with pytest.raises(PermanentError) as caught:
        _connect(dav, password="not-the-password")
    error = caught.value
    assert error.status == 401
    assert dav.url in error.message and "HTTP 401" in error.message
    assert "wrong user name or password" in error.message
    assert "app password" in error.hint


def test_a_wrong_folder_is_a_404_with_the_address_to_use(dav):
    url = f"{dav.base_url}/remote.php/dav/files/bob/"
    with pytest.raises(PermanentError) as caught:
        _connect(dav, url=url)
    assert caught.value.status == 404
    assert f"There is no folder at {url}" in caught.value.message
    assert "remote.php/dav/files/USER/" in caught.value.hint


class _WebPage(http.server.BaseHTTPRequestHandler):
    """A web site that answers every method with an HTML page."""

    def _page(self):
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PROPFIND = _page

    def log_message(self, format, *args):
        pass


class _StaticFiles(http.server.SimpleHTTPRequestHandler):
    """A plain file server: PROPFIND is a method it does not know (501)."""

    def log_message(self, format, *args):
        pass


@contextmanager
def _web_server(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/files/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("handler", "said"), [(_StaticFiles, "HTTP 501"), (_WebPage, "HTTP 200")])
def test_a_server_that_is_not_webdav_says_so(handler, said):
    with _web_server(handler) as url, pytest.raises(NotWebDav) as caught:
        KIND.connect({"url": url, "username": "ana", "password": "pw"})
    assert "is not a WebDAV server" in caught.value.message
    assert said in caught.value.message
    assert "127.0.0.1" in caught.value.message


def test_an_unreachable_server_is_transient():
    url = f"http://127.0.0.1:{free_port()}/remote.php/dav/files/ana/"
    with pytest.raises(TransientError) as caught:
        KIND.connect({"url": url, "username": "ana", "password": "pw"})
    assert "Could not connect to" in caught.value.message and url in caught.value.message


def test_the_form_refuses_credentials_in_the_address():
    form = WebDavForm(
        data={"url": "https://ana:pw@cloud.example.org/dav/", "username": "a", "password": "b"}
    )
    assert not form.is_valid()
    assert "own fields" in form.errors["url"][0]


def test_a_listing_gives_each_file_its_revision_size_and_type(dav):
    dav.write("Notes/garden/plants.txt", "Tomatoes need sun.")
    dav.write("Notes/Ünïcode name #1?.md", "# Hi")
    dav.write("Notes/.git/config", "hidden folder")
    connected = _connect(dav)
    session = Session(config=connected.config, secrets=connected.secrets)
    try:
        notes = next(s for s in connected.sources if s.name == "Notes")
        listing = KIND.list_files(session, notes, {})
        assert listing.complete and listing.requests == 1
        assert listing.state == {"depth": "infinity"}
        paths = [f.path for f in listing.files]
        assert paths == ["Notes/garden/plants.txt", "Notes/Ünïcode name #1?.md"]
        plants = listing.files[0]
        assert plants.remote_id == f"{MOUNT}/Notes/garden/plants.txt"
        assert plants.size == len(b"Tomatoes need sun.") and plants.revision
        assert plants.mime_type == "text/plain" and plants.modified_at.tzinfo is not None
        assert plants.web_url == f"{dav.url}Notes/garden/plants.txt"
        body = b"".join(KIND.download(session, notes, listing.files[1]))
        assert body == b"# Hi"
    finally:
        session.close()


def test_a_server_refusing_infinite_depth_is_walked_one_level_at_a_time(dav_finite):
    dav_finite.write("A/B/C/deep.txt", "deep")
    dav_finite.write("A/top.txt", "top")
    connected = _connect(dav_finite)
    session = Session(config=connected.config, secrets=connected.secrets)
    try:
        listing = KIND.list_files(session, connected.sources[0], {})
        assert [f.path for f in listing.files] == ["A/B/C/deep.txt", "A/top.txt"]
        assert listing.state == {"depth": "1"}
        assert listing.requests == 5  # the refused infinity, then root, A, B, C
        again = KIND.list_files(session, connected.sources[0], listing.state)
        assert again.requests == 4  # no second try at infinity
    finally:
        session.close()
