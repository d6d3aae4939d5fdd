"""One calendar's changes since the last sync, in as few requests as the server allows.

1. A depth-0 PROPFIND of the calendar's sync-token and getctag: when they match the
   saved ones the calendar is unchanged (one request in all).
2. Else the changed and deleted hrefs: a sync-collection REPORT (RFC 6578) from the
   saved token, or, without one (first sync, no server support, token expired), a
   depth-1 listing of ETags compared with the saved ETags.
3. The changed objects' text by calendar-multiget, MULTIGET_BATCH hrefs a request.

State: {"sync_token", "ctag", "etags": {href: etag}}. A server that forgot the token
answers 403 (or 409) with DAV:valid-sync-token: that means "list it all", not a wrong
password.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from connectors.base import Resource, SyncResult
from connectors.caldav.protocol import (
    XMLNS,
    Dav,
    Entry,
    SyncTokenInvalid,
    href_key,
    multistatus_parse,
    propfind_body,
    tag,
)

MULTIGET_BATCH = 200


def _collection_state(dav: Dav, url: str) -> tuple[str, str]:
    entries = dav.multistatus("PROPFIND", url, propfind_body("D:sync-token", "CS:getctag"), depth=0)
    own = next((e for e in entries if href_key(e.href) == href_key(url)), None)
    own = own or (entries[0] if entries else Entry(href=url))
    return own.text("D:sync-token"), own.text("CS:getctag")


def _is_member(entry: Entry, calendar_key: str) -> bool:
    key = href_key(entry.href)
    return key != calendar_key and not key.endswith("/")


def _sync_collection(dav: Dav, url: str, token: str) -> tuple[str, dict[str, str], set[str], bool]:
    """(new token, {href: etag} changed, deleted hrefs, truncated) since `token`."""
    body = (
        f'<?xml version="1.0" encoding="utf-8"?><D:sync-collection {XMLNS}>'
        f"<D:sync-token>{escape(token)}</D:sync-token><D:sync-level>1</D:sync-level>"
        "<D:prop><D:getetag/></D:prop></D:sync-collection>"
    )
    response = dav.send("REPORT", url, body, depth=0)  # RFC 6578: Depth 0
    tree = response.tree
    if tree is None:
        raise SyncTokenInvalid("The server gave no sync-collection answer.", url=url)
    calendar_key = href_key(url)
    changed: dict[str, str] = {}
    deleted: set[str] = set()
    truncated = False
    for entry in multistatus_parse(tree):
        if href_key(entry.href) == calendar_key:
            truncated = truncated or entry.status == 507  # more changes than one answer holds
            continue
        if not _is_member(entry, calendar_key):
            continue
        if entry.status == 404:
            deleted.add(href_key(entry.href))
        else:
            changed[href_key(entry.href)] = entry.text("D:getetag")
    new_token = (tree.findtext(tag("D:sync-token")) or "").strip()
    return new_token, changed, deleted, truncated


def _listing(dav: Dav, url: str) -> dict[str, str]:
    """Every object's ETag (one depth-1 PROPFIND)."""
    entries = dav.multistatus(
        "PROPFIND", url, propfind_body("D:getetag", "D:resourcetype"), depth=1
    )
    calendar_key = href_key(url)
    return {
        href_key(e.href): e.text("D:getetag")
        for e in entries
        if _is_member(e, calendar_key) and e.status // 100 == 2
    }


def _multiget(dav: Dav, url: str, hrefs: list[str]) -> tuple[list[Resource], set[str], list[str]]:
    """(objects with events, hrefs now gone, problems)."""
    found: list[Resource] = []
    gone: set[str] = set()
    problems: list[str] = []
    for start in range(0, len(hrefs), MULTIGET_BATCH):
        batch = hrefs[start : start + MULTIGET_BATCH]
        refs = "".join(f"<D:href>{escape(href)}</D:href>" for href in batch)
        body = (
            f'<?xml version="1.0" encoding="utf-8"?><C:calendar-multiget {XMLNS}>'
            f"<D:prop><D:getetag/><C:calendar-data/></D:prop>{refs}</C:calendar-multiget>"
        )
        answered = set()
        for entry in dav.multistatus("REPORT", url, body, depth=None):  # RFC 4791 7.9
            key = href_key(entry.href)
            answered.add(key)
            if entry.status in (404, 410):
                gone.add(key)
                continue
            text = entry.text("C:calendar-data")
            if not text:
                problems.append(f"Skipped {key}: the server sent no calendar data for it.")
                continue
            if "BEGIN:VEVENT" in text.upper():  # tasks and journals are not events
                found.append(Resource(href=key, ics=text, etag=entry.text("D:getetag")))
        gone |= set(batch) - answered
    return found, gone, problems


def calendar_changes(dav: Dav, url: str, state: dict[str, Any]) -> SyncResult:
    """What changed in the calendar at `url` since `state` (see the module comment)."""
    before = dav.requests
    token, ctag = _collection_state(dav, url)
    saved_etags: dict[str, str] = dict(state.get("etags") or {})
    if state and (
        (token and token == state.get("sync_token"))
        or (not token and ctag and ctag == state.get("ctag"))
    ):
        return SyncResult(state=state, unchanged=True, requests=dav.requests - before)
    changed: dict[str, str] | None = None
    deleted: set[str] = set()
    if token and state.get("sync_token") and "etags" in state:
        try:
            new_token, changed, deleted, truncated = _sync_collection(dav, url, state["sync_token"])
            token = new_token or token
            if truncated:
                changed = None
        except SyncTokenInvalid:
            changed = None
    complete = False
    if changed is None:  # list it all and compare ETags
        listed = _listing(dav, url)
        complete = not saved_etags
        changed = {h: e for h, e in listed.items() if saved_etags.get(h) != e or not e}
        deleted = set(saved_etags) - set(listed)
    resources, gone, problems = _multiget(dav, url, sorted(changed))
    deleted |= gone
    etags = {h: e for h, e in saved_etags.items() if h not in deleted}
    for href in changed:
        if href not in gone:
            etags[href] = changed[href]
    for resource in resources:
        etags[resource.href] = resource.etag or etags.get(resource.href, "")
    # An object that turned into a task (no VEVENT) leaves the events.
    deleted |= set(changed) - gone - {resource.href for resource in resources}
    return SyncResult(
        state={"sync_token": token, "ctag": ctag, "etags": etags},
        changed=resources,
        deleted=sorted(deleted),
        complete=complete,
        problems=problems,
        requests=dav.requests - before,
    )
