"""A real WebDAV server for the drive tests and benchmark: WsgiDAV over a folder, on
127.0.0.1 and a free port, with a Basic login, served by wsgiref in a thread.

`python -m connectors.bench.webdav ROOT PORT USER PASSWORD` serves the same in a process
of its own (the benchmark: a server thread would share the GIL with the sync it times).

It records every request (method, decoded path, Depth) so a test can count downloads
and listings. `finite_depth=True` answers PROPFIND Depth: infinity the way Nextcloud
does by default (403, propfind-finite-depth), so the kind walks one level at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from socketserver import ThreadingMixIn
from urllib.parse import unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from wsgidav.wsgidav_app import WsgiDAVApp

MOUNT = "/remote.php/dav/files/ana"  # a Nextcloud-shaped address, path included
FINITE_DEPTH = (
    b'<?xml version="1.0" encoding="utf-8"?><d:error xmlns:d="DAV:">'
    b"<d:propfind-finite-depth/></d:error>"
)


@dataclass
class DavServer:
    root: Path  # the account's files, on disk
    base_url: str  # scheme://host:port
    username: str
    password: str
    finite_depth: bool = False
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, depth

    @property
    def url(self) -> str:
        """The WebDAV address of the files, as a user types it."""
        return f"{self.base_url}{MOUNT}/"

    def count(self, method: str) -> int:
        return sum(1 for m, _, _ in self.requests if m == method)

    def path(self, relative: str) -> Path:
        """Where `relative` lives on disk (its folders made)."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def write(self, relative: str, data: bytes | str) -> Path:
        path = self.path(relative)
        if isinstance(data, str):
            data = data.encode("utf-8")
        path.write_bytes(data)
        return path


class _Threading(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format, *args):
        pass


def _recording(app, server: DavServer):
    def wrapper(environ, start_response):
        method, depth = environ["REQUEST_METHOD"], environ.get("HTTP_DEPTH", "")
        server.requests.append((method, unquote(environ.get("PATH_INFO", "")), depth))
        if server.finite_depth and method == "PROPFIND" and depth.lower() == "infinity":
            start_response("403 Forbidden", [("Content-Type", "application/xml")])
            return [FINITE_DEPTH]
        return app(environ, start_response)

    return wrapper


def _app(root: Path, username: str, password: str) -> WsgiDAVApp:
    return WsgiDAVApp(
        {
            "provider_mapping": {MOUNT: str(root)},
            "simple_dc": {"user_mapping": {"*": {username: {"password": password}}}},
            "http_authenticator": {
                "domain_controller": None,
                "accept_basic": True,
                "accept_digest": False,
                "default_to_digest": False,
            },
            "verbose": 0,
            "logging": {"enable": False},
            "dir_browser": {"enable": False},
            "lock_storage": False,
        }
    )


@contextmanager
def dav_server(
    root: Path, *, username: str = "ana", password: str = "s3cret-pass", finite_depth=False
) -> Iterator[DavServer]:
    root.mkdir(parents=True, exist_ok=True)
    app = _app(root, username, password)
    server = DavServer(root=root, base_url="", username=username, password=password)
    server.finite_depth = finite_depth
    httpd = make_server(
        "127.0.0.1", 0, _recording(app, server), server_class=_Threading, handler_class=_Quiet
    )
    server.base_url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


if __name__ == "__main__":
    import sys

    folder, port, user, secret = sys.argv[1:5]
    make_server(
        "127.0.0.1", int(port), _app(Path(folder), user, secret),
        server_class=_Threading, handler_class=_Quiet,
    ).serve_forever()  # fmt: skip
