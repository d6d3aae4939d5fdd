"""Fetching a calendar feed: a conditional GET, streamed under a size cap, with every
failure sorted into permanent (the user must act) or transient (retry later)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from connectors.base import PermanentError, TransientError

USER_AGENT = "recall-assistant/0.1 (calendar subscription)"
CHUNK = 64 * 1024
_HTML_STARTS = (b"<!doctype html", b"<html", b"<?xml", b"<head", b"<body")


@dataclass
class Fetched:
    """A feed's body (None when the server said 304 Not Modified) and its validators."""

    text: str | None
    state: dict[str, Any]


def size_words(limit: int) -> str:
    """A byte cap in words: "20 MB", or "64 KB" below one megabyte."""
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):g} MB"
    return f"{limit / 1024:g} KB"


def _too_large(url: str) -> PermanentError:
    limit = settings.CONNECTOR_MAX_FEED_BYTES
    return PermanentError(
        f"The feed is larger than {size_words(limit)}, the most this server accepts.",
        hint="An administrator can raise CONNECTOR_MAX_FEED_BYTES.",
        url=url,
    )


def _status_error(status: int, url: str) -> Exception:
    if status in (401, 403):
        return PermanentError(
            f"The feed refused access (HTTP {status}).",
            hint="The link may have been reset or made private: copy the current one.",
            url=url,
            status=status,
        )
    if status in (404, 410):
        return PermanentError(
            f"There is no feed at this address any more (HTTP {status}).",
            hint="Check the address, or copy the current link from the calendar's settings.",
            url=url,
            status=status,
        )
    if status == 429 or status >= 500:
        return TransientError(
            f"The feed's server is not answering properly (HTTP {status}); it will be tried again.",
            url=url,
            status=status,
        )
    return PermanentError(f"The feed's server refused the request (HTTP {status}).", url=url,
                          status=status)  # fmt: skip


def _get(url: str, headers: dict[str, str]) -> requests.Response:
    try:
        return requests.get(
            url, headers=headers, stream=True, timeout=settings.CONNECTOR_HTTP_TIMEOUT_S
        )
    except requests.exceptions.SSLError as error:
        raise PermanentError(
            "The feed's server has a TLS certificate this server does not trust.",
            hint="If it is your own server, give it a valid certificate (e.g. Let's Encrypt); "
            "the address must be https:// with a certificate for that name.",
            url=url,
        ) from error
    except requests.exceptions.TooManyRedirects as error:
        raise PermanentError("The feed's address redirects in a loop.", url=url) from error
    except requests.exceptions.Timeout as error:
        raise TransientError(
            f"The feed's server did not answer within {settings.CONNECTOR_HTTP_TIMEOUT_S} s.",
            url=url,
        ) from error
    except requests.exceptions.ConnectionError as error:
        raise TransientError(
            "The feed's server could not be reached (connection refused or no network).",
            hint="Check that the address is right and the server is up.",
            url=url,
        ) from error
    except requests.exceptions.RequestException as error:
        raise PermanentError(f"The feed could not be fetched ({error}).", url=url) from error


def _body(response: requests.Response, url: str) -> bytes:
    """The body, read in chunks and refused as soon as it passes the cap."""
    limit = settings.CONNECTOR_MAX_FEED_BYTES
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(url)
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(url)
            chunks.append(chunk)
    except requests.exceptions.RequestException as error:
        raise TransientError(f"The feed stopped half-way ({error}).", url=url) from error
    return b"".join(chunks)


def _decode(body: bytes, response: requests.Response, url: str) -> str:
    content_type = response.headers.get("Content-Type", "").lower()
    head = body.lstrip()[:200].lower()
    if "html" in content_type or head.startswith(_HTML_STARTS):
        raise PermanentError(
            "This address returned a web page, not a calendar feed.",
            hint="Copy the calendar's iCal/ICS link (it often ends in .ics), not the "
            "address of the page that shows the calendar.",
            url=url,
        )
    # iCalendar is UTF-8 (RFC 5545); requests would guess Latin-1 for a text/* type
    # without a charset, so only an explicit charset is believed.
    charset = response.encoding if "charset=" in content_type else "utf-8"
    try:
        text = body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        text = body.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    if "BEGIN:VCALENDAR" not in text[:4096].upper():
        raise PermanentError(
            "This address did not return a calendar feed (no BEGIN:VCALENDAR).",
            hint="Copy the calendar's iCal/ICS link (it often ends in .ics).",
            url=url,
        )
    return text


def feed_fetch(*, url: str, shown_url: str, state: dict[str, Any]) -> Fetched:
    """GET the feed, sending the validators of the last fetch (ETag, Last-Modified).

    `shown_url` is what errors quote (the address with its secret part masked). A body
    identical to the last one (same hash) counts as unchanged, for servers that send
    no validators."""
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    with _get(url, headers) as response:
        if response.status_code == 304 and state:
            return Fetched(text=None, state=dict(state))
        if response.status_code >= 400:
            raise _status_error(response.status_code, shown_url)
        if response.status_code != 200:
            raise PermanentError(
                f"The feed's server answered HTTP {response.status_code} instead of a feed.",
                url=shown_url,
            )
        body = _body(response, shown_url)
        new_state = {
            "etag": response.headers.get("ETag", ""),
            "last_modified": response.headers.get("Last-Modified", ""),
            "sha256": hashlib.sha256(body).hexdigest(),
        }
        if state.get("sha256") == new_state["sha256"]:
            return Fetched(text=None, state=new_state)
        return Fetched(text=_decode(body, response, shown_url), state=new_state)
