"""Checks on the addresses a user asks the server to connect to, shared by every kind.

A connection's URL comes from a form: it must be http(s), carry no credentials (they go
in their own fields, encrypted), and, where CONNECTOR_ALLOW_PRIVATE_ADDRESSES is off,
must not resolve to the server's own network (loopback, private, link-local ranges).
DNS can change between this check and the request (rebinding); the check is a guard for
the ordinary case, not a network policy.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings

from connectors.base import PermanentError


def url_without_credentials(url: str) -> str:
    """`url` with any user:password@ removed, safe to show or log."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


def url_check(url: str) -> str:
    """The URL, stripped, if it may be connected to; PermanentError saying why not."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PermanentError(
            f"{url_without_credentials(url)!r} is not a web address.",
            hint="Use an address that starts with https:// (or http:// on your own network).",
        )
    if parts.username or parts.password:
        raise PermanentError(
            "Put the username and password in their own fields, not in the address.",
            url=url_without_credentials(url),
        )
    if settings.CONNECTOR_ALLOW_PRIVATE_ADDRESSES:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise PermanentError(
            f"The host {parts.hostname!r} could not be found ({error}).",
            hint="Check the address for typos.",
            url=url,
        ) from error
    if any(_is_internal(str(info[4][0])) for info in infos):
        raise PermanentError(
            f"{parts.hostname} is on this server's own network, which this server does "
            "not connect to.",
            hint="An administrator can allow it with CONNECTOR_ALLOW_PRIVATE_ADDRESSES=true.",
            url=url,
        )
    return url
