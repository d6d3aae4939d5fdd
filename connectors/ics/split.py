"""One feed (a single VCALENDAR) split into one Resource per UID, so that
connectors/calendar/apply.py stores it like any other calendar's objects.

The split works on the text's lines, not on a parse of the whole feed: one broken event
(a bad date, a missing END) is skipped with its reason and the rest are kept. Each UID's
VEVENTs (a recurring master and its overrides) travel together, with the VTIMEZONEs
they name.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from icalendar import Calendar

from connectors.base import Resource

MAX_HREF = 900
_TOP_LEVEL = ("BEGIN:VEVENT", "BEGIN:VTIMEZONE", "BEGIN:VTODO", "END:VCALENDAR")
_TZID = re.compile(r";TZID=\"?([^\";:]+)", re.IGNORECASE)


@dataclass
class Split:
    resources: list[Resource] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    name: str = ""  # X-WR-CALNAME
    time_zone: str = ""  # X-WR-TIMEZONE


@dataclass
class _Blocks:
    header: list[str] = field(default_factory=list)  # the VCALENDAR's own properties
    timezones: dict[str, str] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    broken: int = 0  # VEVENTs with no END


def _unfold(lines: list[str]) -> list[str]:
    unfolded: list[str] = []
    for line in lines:
        if line[:1] in (" ", "\t") and unfolded:
            unfolded[-1] += line[1:]
        else:
            unfolded.append(line)
    return unfolded


def _blocks(text: str) -> _Blocks:
    """The feed's top-level pieces. A component is collected from its BEGIN to its END
    (nested VALARMs included); one left open at the next top-level BEGIN is broken."""
    blocks = _Blocks()
    current: list[str] | None = None
    kind = ""
    depth = 0
    for line in text.splitlines():
        # a folded continuation (leading space) is never a BEGIN/END, whatever it says
        upper = "" if line[:1] in (" ", "\t") else line.rstrip().upper()
        if current is None:
            if upper.startswith("BEGIN:") and upper != "BEGIN:VCALENDAR":
                current, kind, depth = [line], upper[6:], 1
            elif line and not upper.startswith("END:VCALENDAR") and upper != "BEGIN:VCALENDAR":
                blocks.header.append(line)
            continue
        if depth == 1 and upper in _TOP_LEVEL:
            # a new top-level component while this one is still open: it has no END
            blocks.broken += kind == "VEVENT"
            current, kind, depth = (
                ([line], upper[6:], 1) if upper.startswith("BEGIN") else (None, "", 0)
            )
            continue
        current.append(line)
        if upper.startswith("BEGIN:"):
            depth += 1
        elif upper.startswith("END:"):
            depth -= 1
            if depth == 0:
                _keep(blocks, kind, "\r\n".join(current))
                current = None
    if current is not None and kind == "VEVENT":
        blocks.broken += 1
    return blocks


def _keep(blocks: _Blocks, kind: str, text: str) -> None:
    if kind == "VEVENT":
        blocks.events.append(text)
    elif kind == "VTIMEZONE":
        match = re.search(r"^TZID[;:](?:.*:)?(.+)$", text, re.MULTILINE | re.IGNORECASE)
        if match:
            blocks.timezones[match.group(1).strip()] = text


def _property(lines: list[str], name: str) -> str:
    for line in lines:
        key, _, value = line.partition(":")
        if key.split(";")[0].strip().upper() == name:
            return value.strip().replace("\\,", ",").replace("\\;", ";")
    return ""


def _wrap(parts: list[str]) -> str:
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//recall-assistant//ics feed//EN", *parts,
         "END:VCALENDAR", ""]
    )  # fmt: skip


def _check(event_text: str, timezones: dict[str, str]) -> tuple[str, str]:
    """(UID, "") for a readable event, or (label, reason) for one to skip."""
    lines = _unfold(event_text.split("\r\n"))
    uid = _property(lines, "UID")
    label = repr(_property(lines, "SUMMARY") or "(no title)") + (f" ({uid})" if uid else "")
    zones = [timezones[z] for z in set(_TZID.findall(event_text)) if z in timezones]
    try:
        calendar = Calendar.from_ical(_wrap([*zones, event_text]))
    except Exception as error:  # icalendar raises ValueError, KeyError, IndexError, ...
        return label, f"it is not valid iCalendar ({error})"
    events = list(calendar.walk("VEVENT"))
    if not events:
        return label, "it could not be read"
    event = events[0]
    if not uid:
        return label, "it has no UID"
    errors = getattr(event, "errors", None)
    if errors:
        name, reason = errors[0]
        return label, f"its {name} is not valid ({reason})"
    if "DTSTART" not in event:
        return label, "it has no start (DTSTART)"
    try:
        event.decoded("DTSTART")
    except Exception as error:
        return label, f"its start cannot be read ({error})"
    return uid, ""


def _href(uid: str) -> str:
    if len(uid) <= MAX_HREF and "\n" not in uid:
        return uid
    return "uid-sha256-" + hashlib.sha256(uid.encode()).hexdigest()


def feed_split(text: str) -> Split:
    """Resources for every readable VEVENT of `text`, grouped by UID, and the problems."""
    blocks = _blocks(text)
    header = _unfold(blocks.header)
    result = Split(name=_property(header, "X-WR-CALNAME")[:300],
                   time_zone=_property(header, "X-WR-TIMEZONE")[:64])  # fmt: skip
    if blocks.broken:
        result.problems.append(
            f"Skipped {blocks.broken} event{'s' if blocks.broken != 1 else ''} that "
            "never end (BEGIN:VEVENT without END:VEVENT)."
        )
    by_uid: dict[str, list[str]] = {}
    for event_text in blocks.events:
        uid_or_label, reason = _check(event_text, blocks.timezones)
        if reason:
            result.problems.append(f"Skipped event {uid_or_label}: {reason}.")
            continue
        by_uid.setdefault(uid_or_label, []).append(event_text)
    for uid, texts in by_uid.items():
        tzids = {z for t in texts for z in _TZID.findall(t)}
        zones = [blocks.timezones[z] for z in sorted(tzids) if z in blocks.timezones]
        ics = _wrap([*zones, *texts])
        etag = hashlib.sha256(ics.encode()).hexdigest()[:32]
        result.resources.append(Resource(href=_href(uid), ics=ics, etag=etag))
    return result
