"""Talking WebDAV to a CalDAV server: one `Dav` per connection, every request counted,
every failure turned into a ConnectorError in words the user can act on.

caldav's DAVClient does the HTTP and the auth negotiation (Basic or Digest); the XML
bodies are written here and the multistatus answers read here, so each sync step is
one request whose cost is known.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

from caldav import DAVClient
from caldav.lib import error as dav_error
from caldav.lib.http_sync import requests as http
from django.conf import settings
from lxml import etree

from connectors.base import ConnectorError, PermanentError, TransientError

NS = {
    "D": "DAV:",
    "C": "urn:ietf:params:xml:ns:caldav",
    "CS": "http://calendarserver.org/ns/",
    "I": "http://apple.com/ns/ical/",
}
XMLNS = " ".join(f'xmlns:{prefix}="{uri}"' for prefix, uri in NS.items())
SYNC_TOKEN_INVALID = "{DAV:}valid-sync-token"
SERVER_HINT = (
    "Use the CalDAV address: Nextcloud https://HOST/remote.php/dav/, Radicale "
    "https://HOST:5232/, Fastmail https://caldav.fastmail.com/, iCloud "
    "https://caldav.icloud.com/."
)
PASSWORD_HINT = (
    "Check the user name and password. iCloud and Fastmail (and accounts with two-step "
    "login) need an app-specific password, not the account password."
)


class NotCalDav(PermanentError):
    """The server answered, but not as a CalDAV server would (another address may)."""


class SyncTokenInvalid(PermanentError):
    """The server no longer knows the saved sync token: list the calendar in full."""


def tag(clark_prefixed: str) -> str:
    """`D:getetag` -> `{DAV:}getetag`."""
    prefix, _, name = clark_prefixed.partition(":")
    return f"{{{NS[prefix]}}}{name}"


def href_key(href: str) -> str:
    """One spelling of an href: its path, percent-encoded the same way whoever sent it."""
    path = urlsplit(href.strip()).path or "/"
    return quote(unquote(path), safe="/@:+!$&'()*,;=~-._")


def propfind_body(*props: str) -> str:
    inner = "".join(f"<{prop}/>" for prop in props)
    return (
        f'<?xml version="1.0" encoding="utf-8"?><D:propfind {XMLNS}>'
        f"<D:prop>{inner}</D:prop></D:propfind>"
    )


@dataclass
class Entry:
    """One <D:response> of a multistatus: its href, its own status (a sync-collection
    deletion is a 404 here) and the properties found (200 propstats only)."""

    href: str
    status: int = 200
    props: dict[str, Any] = field(default_factory=dict)

    def text(self, name: str) -> str:
        element = self.props.get(tag(name))
        return (element.text or "").strip() if element is not None else ""


def _status_code(text: str | None) -> int:
    parts = (text or "").split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def multistatus_parse(tree: Any) -> list[Entry]:
    entries = []
    for response in tree.iter(tag("D:response")):
        href = response.findtext(tag("D:href")) or ""
        entry = Entry(href=href.strip(), status=_status_code(response.findtext(tag("D:status"))))
        for propstat in response.iter(tag("D:propstat")):
            if _status_code(propstat.findtext(tag("D:status"))) // 100 != 2:
                continue
            prop = propstat.find(tag("D:prop"))
            for element in prop if prop is not None else ():
                entry.props[element.tag] = element
        if not entry.status:
            entry.status = 200 if entry.props else 404
        entries.append(entry)
    return entries


def _host(url: str) -> str:
    return urlsplit(url).netloc or url


def status_error(status: int, url: str, body: bytes | str | None = None) -> ConnectorError:
    if SYNC_TOKEN_INVALID in dav_error.parse_preconditions(body):
        return SyncTokenInvalid(
            "The server no longer knows this sync point.", url=url, status=status
        )
    if status == 401:
        return PermanentError(
            f"{_host(url)} refused the login: wrong user name or password.",
            hint=PASSWORD_HINT, url=url, status=status,
        )  # fmt: skip
    if status == 403:
        return PermanentError(
            f"{_host(url)} refused this account access to {url} (403 Forbidden).",
            hint="The calendar may have been unshared, or made read-only for this account.",
            url=url, status=status,
        )  # fmt: skip
    if status in (404, 410):
        return PermanentError(
            f"The calendar at {url} is gone from the server ({status}).",
            hint="It was deleted or moved: reconnect to pick the calendars again.",
            url=url, status=status,
        )  # fmt: skip
    if status in (405, 501):
        return NotCalDav(
            f"{_host(url)} answered but is not a CalDAV server (HTTP {status} to WebDAV).",
            hint=SERVER_HINT, url=url, status=status,
        )  # fmt: skip
    if status == 429 or status >= 500:
        return TransientError(
            f"{_host(url)} answered HTTP {status} for {url}; trying again later.",
            url=url, status=status,
        )  # fmt: skip
    return PermanentError(f"{_host(url)} answered HTTP {status} for {url}.", url=url, status=status)


def exception_error(error: Exception, url: str) -> ConnectorError:
    """A ConnectorError for what DAVClient, niquests/requests or lxml raised."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, dav_error.RateLimitError):
        return TransientError(f"{_host(url)} asks to slow down (HTTP 429/503).", url=url)
    if isinstance(error, dav_error.DAVError):
        status = getattr(error, "status", None) or (
            401 if isinstance(error, dav_error.AuthorizationError) else 0
        )
        return status_error(status, url, getattr(error, "body", None))
    if isinstance(error, http.exceptions.SSLError):
        return PermanentError(
            f"The secure connection to {_host(url)} failed: its certificate is not trusted "
            f"({error.__class__.__name__}).",
            hint="The server needs a valid TLS certificate (a self-signed one is refused); "
            "or use http:// on your own network.", url=url,
        )  # fmt: skip
    if isinstance(error, http.exceptions.Timeout):
        return TransientError(
            f"{url} did not answer within {settings.CONNECTOR_HTTP_TIMEOUT_S} seconds.", url=url
        )
    if isinstance(error, http.exceptions.ConnectionError):
        return TransientError(
            f"Could not connect to {url}: the server is down or refused the connection.", url=url
        )
    if isinstance(error, etree.XMLSyntaxError):
        return NotCalDav(
            f"{_host(url)} answered but is not a CalDAV server (its reply is not WebDAV XML).",
            hint=SERVER_HINT, url=url,
        )  # fmt: skip
    if isinstance(error, NotImplementedError):  # caldav: no login scheme it speaks
        return PermanentError(
            f"{_host(url)} asks for a login method this server cannot use ({error}).",
            hint="Basic and Digest logins work; ask the server's administrator.", url=url,
        )  # fmt: skip
    if isinstance(error, http.exceptions.RequestException):
        return TransientError(f"The request to {url} failed: {error}.", url=url)
    raise error


class Dav:
    """One account on one server. `requests` counts the HTTP requests made."""

    def __init__(self, *, url: str, username: str, password: str, auth_type: str = "") -> None:
        self.url = url if url.endswith("/") else url + "/"
        self.requests = 0
        # auth_type remembered from the connect test: the login goes with the first
        # request instead of after a 401.
        self.client = DAVClient(  # type: ignore[operator]  # caldav types it as a lazy object
            url=self.url, username=username or None, password=password or None,
            auth_type=auth_type or None, timeout=settings.CONNECTOR_HTTP_TIMEOUT_S,
            enable_rfc6764=False,
        )  # fmt: skip
        # Count what goes over the wire, the auth handshake and redirects included.
        self.client.session.hooks.setdefault("response", []).append(self._counted)

    def _counted(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.requests += 1
        return response

    @property
    def auth_type(self) -> str:
        """The scheme the login went with ("basic", "digest", "bearer") or ""."""
        name = type(self.client.auth).__name__.lower() if self.client.auth else ""
        return next((kind for kind in ("digest", "basic", "bearer") if kind in name), "")

    def absolute(self, href: str) -> str:
        return urljoin(self.url, href)

    def send(
        self,
        method: str,
        url: str,
        body: str = "",
        *,
        depth: int | None = None,
        headers: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200, 207),
    ) -> Any:
        """One request; the caldav DAVResponse when its status is in `ok`, else the
        ConnectorError its status means."""
        all_headers = {"Content-Type": "application/xml; charset=utf-8", **(headers or {})}
        if depth is not None:
            all_headers["Depth"] = str(depth)
        try:
            response = self.client.request(url, method, body, all_headers)
        except Exception as error:
            raise exception_error(error, url) from error
        size = len(response._raw or b"")  # the body as received (the tree is parsed from it)
        size = max(size, int(response.headers.get("Content-Length") or 0))
        if size > settings.CONNECTOR_MAX_FEED_BYTES:
            raise PermanentError(
                f"{url} answered with {size} bytes, more than the "
                f"{settings.CONNECTOR_MAX_FEED_BYTES} this server accepts.",
                hint="An administrator can raise CONNECTOR_MAX_FEED_BYTES.", url=url,
            )  # fmt: skip
        if response.status not in ok:
            raise status_error(response.status, url, response._raw)
        return response

    def redirect_target(self, url: str) -> str:
        """Where `url` redirects to (/.well-known/caldav does), followed by hand: an HTTP
        library re-sends a redirected PROPFIND without its body."""
        for _ in range(5):
            try:
                response = self.client.session.request(
                    "PROPFIND", url, headers={"Depth": "0"}, auth=self.client.auth,
                    allow_redirects=False, timeout=settings.CONNECTOR_HTTP_TIMEOUT_S,
                )  # fmt: skip
            except Exception as error:
                raise exception_error(error, url) from error
            location = response.headers.get("Location")
            if response.status_code not in (301, 302, 303, 307, 308) or not location:
                return url
            url = urljoin(url, location)
        return url

    def multistatus(self, method: str, url: str, body: str, *, depth: int | None) -> list[Entry]:
        response = self.send(method, url, body, depth=depth)
        if response.tree is None or response.tree.tag != tag("D:multistatus"):
            raise NotCalDav(
                f"{_host(url)} answered but is not a CalDAV server (no WebDAV multistatus).",
                hint=SERVER_HINT, url=url,
            )  # fmt: skip
        return multistatus_parse(response.tree)

    def close(self) -> None:
        self.client.close()
