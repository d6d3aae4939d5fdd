"""Talking to a WebDAV server: one `Drive` per connection, every request counted, every
failure turned into a ConnectorError in words the user can act on.

webdav4's Client holds the HTTP side (an httpx client with the login, no retries of its
own: the background sync retries transient errors) and parses each <D:response>; the
PROPFIND requests are made here so that a listing's body is read under a size limit
and a bad entry costs that entry, not the listing. Paths are decoded absolute paths
("/remote.php/dav/files/ana/Reports/q1.pdf"), quoted again only on the wire.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from django.conf import settings
from webdav4.client import Client
from webdav4.multistatus import Response

from connectors.base import (
    ConnectorError,
    FileError,
    FileGone,
    PermanentError,
    TransientError,
)

OWNCLOUD_NS = "http://owncloud.org/ns"
PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    f'<d:propfind xmlns:d="DAV:" xmlns:oc="{OWNCLOUD_NS}"><d:prop>'
    "<d:resourcetype/><d:getetag/><d:getlastmodified/><d:getcontentlength/>"
    "<d:getcontenttype/><d:displayname/><oc:fileid/>"
    "</d:prop></d:propfind>"
)
BLOCK_BYTES = 64 * 1024
SERVER_HINT = (
    "Use the WebDAV address of your files: Nextcloud and ownCloud "
    "https://HOST/remote.php/dav/files/USER/ (shown under Files > Settings > WebDAV)."
)
PASSWORD_HINT = (
    "Check the user name and password. With two-factor login (Nextcloud, ownCloud) use an "
    "app password: Settings > Security > Devices & sessions > Create new app password."
)


class NotWebDav(PermanentError):
    """The server answered, but not as a WebDAV server would."""


class ListingTooLarge(PermanentError):
    """A PROPFIND answer over CONNECTOR_MAX_FEED_BYTES (a depth-1 walk may still do)."""


def host_of(url: str) -> str:
    return urlsplit(url).netloc or url


def status_error(status: int, url: str, body: bytes = b"") -> ConnectorError:
    host = host_of(url)
    if status == 401:
        return PermanentError(
            f"{host} refused the login for {url}: wrong user name or password (HTTP 401).",
            hint=PASSWORD_HINT, url=url, status=status,
        )  # fmt: skip
    if status == 403:
        return PermanentError(
            f"{host} refused this account access to {url} (HTTP 403 Forbidden).",
            hint="The folder may have been unshared; check the account's rights on it.",
            url=url, status=status,
        )  # fmt: skip
    if status in (404, 410):
        return PermanentError(
            f"There is no folder at {url} (HTTP {status}).", hint=SERVER_HINT, url=url,
            status=status,
        )  # fmt: skip
    if status in (405, 501):
        return NotWebDav(
            f"{host} answered but is not a WebDAV server: it does not know PROPFIND at "
            f"{url} (HTTP {status}).", hint=SERVER_HINT, url=url, status=status,
        )  # fmt: skip
    if status == 429 or status >= 500:
        return TransientError(
            f"{host} answered HTTP {status} for {url}; trying again later.", url=url,
            status=status,
        )  # fmt: skip
    if 300 <= status < 400:
        return PermanentError(
            f"{url} redirects elsewhere (HTTP {status}), which is not followed.",
            hint=SERVER_HINT, url=url, status=status,
        )  # fmt: skip
    return PermanentError(f"{host} answered HTTP {status} for {url}.", url=url, status=status)


def exception_error(error: Exception, url: str) -> ConnectorError:
    """A ConnectorError for what httpx raised."""
    if isinstance(error, httpx.TimeoutException):
        return TransientError(
            f"{url} did not answer within {settings.CONNECTOR_HTTP_TIMEOUT_S} seconds.", url=url
        )
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        return PermanentError(
            f"The secure connection to {host_of(url)} failed: its certificate is not trusted.",
            hint="The server needs a valid TLS certificate (a self-signed one is refused); "
            "or use http:// on your own network.", url=url,
        )  # fmt: skip
    if isinstance(error, httpx.ConnectError):
        return TransientError(
            f"Could not connect to {url}: the server is down or refused the connection.",
            url=url,
        )
    return TransientError(f"The request to {url} failed: {error}.", url=url)


def _quoted(path: str) -> bytes:
    return quote(path, safe="/!$&'()*+,;=:@~-._").encode("ascii")


class Drive:
    """One account on one WebDAV server. `requests` counts the HTTP requests made."""

    def __init__(self, *, url: str, username: str, password: str, auth_type: str = "") -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.requests = 0
        self.auth_type = auth_type or "basic"
        auth: Any = None
        if username:
            digest = self.auth_type == "digest"
            auth = httpx.DigestAuth(username, password) if digest else (username, password)
        self.dav = Client(
            self.url, auth=auth, retry=False,
            timeout=httpx.Timeout(settings.CONNECTOR_HTTP_TIMEOUT_S),
            follow_redirects=False, event_hooks={"request": [self._counted]},
        )  # fmt: skip
        self.base_path = self.dav.base_url.path  # decoded, with its trailing slash
        self._login = (username, password)

    def _counted(self, request: httpx.Request) -> None:
        self.requests += 1

    def _digest_instead(self, response: httpx.Response) -> bool:
        """Switch to Digest when a Basic login was refused by a server that only asks
        for Digest (the connect test keeps `auth_type` for later syncs)."""
        challenge = response.headers.get("WWW-Authenticate", "").lower()
        username, password = self._login
        if self.auth_type != "basic" or not username or "basic" in challenge:
            return False
        if "digest" not in challenge:
            return False
        self.auth_type = "digest"
        self.dav.http.auth = httpx.DigestAuth(username, password)
        return True

    def url_of(self, path: str) -> str:
        return str(self.dav.base_url.copy_with(raw_path=_quoted(path)))

    def inside(self, path: str) -> bool:
        """Whether `path` (from an href) lies under the connected address."""
        return path.startswith(self.base_path) or path + "/" == self.base_path

    def propfind(self, path: str, *, depth: str) -> tuple[list[Response], list[str]]:
        """The <D:response>s of one PROPFIND (read up to CONNECTOR_MAX_FEED_BYTES), and
        a line for each entry that could not be read."""
        url = self.url_of(path)
        headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
        limit = settings.CONNECTOR_MAX_FEED_BYTES
        try:
            with self.dav.http.stream("PROPFIND", url, content=PROPFIND_BODY, headers=headers) as r:
                if r.status_code == 401 and self._digest_instead(r):
                    return self.propfind(path, depth=depth)
                if r.status_code != 207:
                    if r.status_code in (200, 204):  # a web page or an empty answer
                        raise NotWebDav(
                            f"{host_of(url)} answered but is not a WebDAV server (HTTP "
                            f"{r.status_code} where WebDAV answers 207 Multi-Status).",
                            hint=SERVER_HINT, url=url, status=r.status_code,
                        )  # fmt: skip
                    raise status_error(r.status_code, url, r.read()[:4096])
                body = bytearray()
                for block in r.iter_bytes(BLOCK_BYTES):
                    body += block
                    if len(body) > limit:
                        raise ListingTooLarge(
                            f"The listing of {url} is larger than {limit} bytes.",
                            hint="An administrator can raise CONNECTOR_MAX_FEED_BYTES.",
                            url=url,
                        )
        except httpx.HTTPError as error:
            raise exception_error(error, url) from error
        return _responses(bytes(body), url)

    def stream(self, path: str) -> Iterator[bytes]:
        """The body of the file at `path`, in blocks (the response is closed when the
        caller closes this generator)."""
        url = self.url_of(path)
        try:
            with self.dav.http.stream("GET", url) as response:
                status = response.status_code
                if status in (404, 410):
                    raise FileGone(f"{url} is gone (HTTP {status}).", url=url, status=status)
                if status == 401:
                    raise status_error(status, url)
                if status != 200:
                    raise FileError(
                        f"{host_of(url)} answered HTTP {status} for this file; trying "
                        "again at the next sync.", url=url, status=status,
                    )  # fmt: skip
                yield from response.iter_bytes(BLOCK_BYTES)
        except httpx.HTTPError as error:
            raise exception_error(error, url) from error

    def close(self) -> None:
        self.dav.http.close()


def _responses(body: bytes, url: str) -> tuple[list[Response], list[str]]:
    try:
        tree = ET.fromstring(body)  # expat refuses entity-expansion bombs
    except ET.ParseError as error:
        raise NotWebDav(
            f"{host_of(url)} answered but is not a WebDAV server (its reply is not XML).",
            hint=SERVER_HINT, url=url,
        ) from error  # fmt: skip
    if tree.tag != "{DAV:}multistatus":
        raise NotWebDav(
            f"{host_of(url)} answered but is not a WebDAV server (no multistatus).",
            hint=SERVER_HINT, url=url,
        )  # fmt: skip
    responses, problems = [], []
    for element in tree.findall("{DAV:}response"):
        try:
            responses.append(Response(element))
        except Exception as error:  # a malformed date or href: this entry only
            href = element.findtext("{DAV:}href") or "?"
            problems.append(f"{href}: the server described it in a way not understood ({error}).")
    return responses, problems
