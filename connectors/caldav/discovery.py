"""Finding an account's calendars: the principal, its calendar home, and one depth-1
PROPFIND of the home for every calendar's name, colour, zone, components and rights.

The address a user types varies by server: the DAV root (Nextcloud
https://HOST/remote.php/dav/, Radicale https://HOST:5232/, Fastmail
https://caldav.fastmail.com/, iCloud https://caldav.icloud.com/, whose calendar home
is on another host), a calendar's own address, or just the site (then
/.well-known/caldav redirects to the DAV root). `current-user-principal` works from any
of them; RFC 6764 DNS discovery is off (the address given is the one used).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.base import ConnectorError, PermanentError, RemoteSource
from connectors.caldav.protocol import SERVER_HINT, Dav, Entry, NotCalDav, propfind_body, tag

HOME_PROPS = (
    "D:resourcetype",
    "D:displayname",
    "I:calendar-color",
    "C:supported-calendar-component-set",
    "C:calendar-timezone",
    "D:current-user-privilege-set",
)
WRITE_PRIVILEGES = {tag("D:write"), tag("D:write-content"), tag("D:all"), tag("D:bind")}


@dataclass
class Account:
    principal_url: str
    home_url: str
    sources: list[RemoteSource]


def _href_prop(entry: Entry, name: str, base: str) -> str:
    element = entry.props.get(tag(name))
    href = element.findtext(tag("D:href")) if element is not None else None
    return urljoin(base, href.strip()) if href and href.strip() else ""


def _principal_props(dav: Dav, url: str) -> tuple[str, str]:
    """(principal URL, calendar home URL) as `url` states them ("" where it does not)."""
    entries = dav.multistatus(
        "PROPFIND", url, propfind_body("D:current-user-principal", "C:calendar-home-set"), depth=0
    )
    for entry in entries:
        principal = _href_prop(entry, "D:current-user-principal", url)
        home = _href_prop(entry, "C:calendar-home-set", url)
        if principal or home:
            return principal, home
    return "", ""


def _elsewhere(error: ConnectorError) -> bool:
    """Whether another address (/.well-known/caldav) may answer where this one did not."""
    return isinstance(error, NotCalDav) or error.status in (400, 403, 404, 410)


def _principal_find(dav: Dav) -> tuple[str, str]:
    try:
        principal, home = _principal_props(dav, dav.url)
    except ConnectorError as error:
        if not _elsewhere(error):
            raise  # a wrong password, a bad certificate, a server down: said as it is
        principal = home = ""
    if not principal and not home:
        parts = urlsplit(dav.url)
        well_known = f"{parts.scheme}://{parts.netloc}/.well-known/caldav"
        try:
            principal, home = _principal_props(dav, dav.redirect_target(well_known))
        except ConnectorError as error:
            if not _elsewhere(error):
                raise
    if not principal and not home:
        raise NotCalDav(
            f"{urlsplit(dav.url).netloc} answered but is not a CalDAV server (it names no "
            "calendar account, at this address or at /.well-known/caldav).",
            hint=SERVER_HINT, url=dav.url,
        )  # fmt: skip
    return principal, home


def _zone_name(calendar_timezone: str) -> str:
    """The TZID of a calendar-timezone VCALENDAR, when this server knows the zone."""
    for line in calendar_timezone.splitlines():
        if line.upper().startswith("TZID"):
            name = line.partition(":")[2].strip()
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                return ""
            return name
    return ""


def _holds_events(entry: Entry) -> bool:
    element = entry.props.get(tag("C:supported-calendar-component-set"))
    if element is None:
        return True  # not stated: any component
    names = {(comp.get("name") or "").upper() for comp in element.iter(tag("C:comp"))}
    return "VEVENT" in names or not names


def _writable(entry: Entry) -> bool:
    element = entry.props.get(tag("D:current-user-privilege-set"))
    if element is None:
        return True  # not stated: try, and say what the server answers
    return any(child.tag in WRITE_PRIVILEGES for child in element.iter())


def calendars_list(dav: Dav, home_url: str) -> list[RemoteSource]:
    """The calendars with events in the home (one request)."""
    entries = dav.multistatus("PROPFIND", home_url, propfind_body(*HOME_PROPS), depth=1)
    sources = []
    for entry in entries:
        kinds = entry.props.get(tag("D:resourcetype"))
        if kinds is None or kinds.find(tag("C:calendar")) is None or not _holds_events(entry):
            continue
        url = urljoin(home_url, entry.href)
        if not url.endswith("/"):
            url += "/"
        name = entry.text("D:displayname") or url.rstrip("/").rsplit("/", 1)[-1]
        sources.append(
            RemoteSource(
                remote_id=url,
                name=name,
                color=entry.text("I:calendar-color")[:7],  # #RRGGBB of Apple's #RRGGBBAA
                time_zone=_zone_name(entry.text("C:calendar-timezone")),
                writable=_writable(entry),
            )
        )
    return sources


def account_discover(dav: Dav) -> Account:
    """Principal, home and calendars of the account `dav` logs in to."""
    principal, home = _principal_find(dav)
    if not home:
        entries = dav.multistatus(
            "PROPFIND", principal, propfind_body("C:calendar-home-set"), depth=0
        )
        home = next(
            (h for e in entries if (h := _href_prop(e, "C:calendar-home-set", principal))), ""
        )
    if not home:
        raise PermanentError(
            f"{urlsplit(principal).netloc} names the account but no calendar home: it serves "
            "contacts or files, not calendars, at this address.",
            hint=SERVER_HINT, url=principal,
        )  # fmt: skip
    return Account(principal_url=principal, home_url=home, sources=calendars_list(dav, home))
