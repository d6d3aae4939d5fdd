"""A real ConnectorKind whose server a test scripts: its calendars and events, the errors
it raises, and a gate that holds a sync half-way.

In the test process, the `scripted_kind` fixture (import `scripted_kind_fixture` into
the test module) adds it to the registry's result for one test. A Celery worker loads it through
tests/connectors/scripted_celery.py and reads its script from the JSON file named by
SCRIPTED_KIND_FILE on every call (so the test can change it while the worker runs).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django import forms

from connectors.base import (
    Connected,
    ConnectorError,
    ConnectorKind,
    PermanentError,
    RemoteSource,
    Resource,
    Session,
    SyncResult,
    TransientError,
)
from connectors.registry import kinds

SLUG = "scripted"
PASSWORD_FIELD = "password"


def ics(uid: str, title: str, *, days_from_now: int = 1, hour: int = 10) -> str:
    """One VCALENDAR with one timed event, inside the rolling window."""
    start = (datetime.now(UTC) + timedelta(days=days_from_now)).replace(
        hour=hour, minute=0, second=0, microsecond=0
    )
    end = start + timedelta(hours=1)
    stamp = "%Y%m%dT%H%M%SZ"
    return "\r\n".join([
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//scripted//EN", "BEGIN:VEVENT",
        f"UID:{uid}", f"DTSTAMP:{start:{stamp}}", f"DTSTART:{start:{stamp}}",
        f"DTEND:{end:{stamp}}", f"SUMMARY:{title}", "END:VEVENT", "END:VCALENDAR", "",
    ])  # fmt: skip


@dataclass
class Script:
    """What the scripted server does. `calendars`: remote id -> name; `objects`: remote id ->
    {href: iCalendar text} (the whole listing, every sync); `errors`: raised by the next
    sync() calls, one each ({"permanent": bool, "message", "hint", "url", "status"});
    `connect_error`: raised by connect(); `hold`: the remote id whose sync waits until
    `release_file` exists (or `hold_s` passes)."""

    calendars: dict[str, str] = field(default_factory=lambda: {"work": "Work"})
    objects: dict[str, dict[str, str]] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    connect_error: dict[str, Any] | None = None
    revoke_error: str = ""
    hold: str = ""
    release_file: str = ""
    hold_s: float = 60.0
    calls: list[str] = field(default_factory=list)

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Script:
        return cls(**json.loads(path.read_text()))


def error_from(spec: dict[str, Any]) -> ConnectorError:
    cls = PermanentError if spec.get("permanent") else TransientError
    return cls(
        spec.get("message", "The server failed."),
        hint=spec.get("hint", ""),
        url=spec.get("url", ""),
        status=spec.get("status"),
    )


class ScriptedForm(forms.Form):
    url = forms.URLField(label="Server address", max_length=500, assume_scheme="https")
    username = forms.CharField(label="User name", max_length=100)
    password = forms.CharField(label="Password", widget=forms.PasswordInput, max_length=200)


class ScriptedKind(ConnectorKind):
    slug = SLUG
    name = "Scripted calendar"
    description = "A calendar server that the test scripts."
    writable = False

    def __init__(self, script: Script | None = None, *, script_file: Path | None = None):
        self.script_file = script_file
        self._script = script or Script()
        self.during_sync: Any = None  # in-process only: called with the remote id

    @property
    def script(self) -> Script:
        return Script.load(self.script_file) if self.script_file else self._script

    def _changed(self, script: Script) -> None:
        if self.script_file:
            script.save(self.script_file)

    def form_class(self) -> Any:
        return ScriptedForm

    def connect(self, data: dict[str, Any]) -> Connected:
        script = self.script
        script.calls.append("connect")
        self._changed(script)
        if script.connect_error:
            raise error_from(script.connect_error)
        return Connected(
            label=f"{data['username']} at {data['url']}",
            display_url=data["url"],
            config={"url": data["url"], "username": data["username"]},
            secrets={PASSWORD_FIELD: data[PASSWORD_FIELD]},
            sources=self._sources(script),
        )

    def _sources(self, script: Script) -> list[RemoteSource]:
        return [RemoteSource(remote_id=key, name=name) for key, name in script.calendars.items()]

    def sources(self, session: Session) -> list[RemoteSource]:
        return self._sources(self.script)

    def sync(self, session: Session, source: RemoteSource, state: dict[str, Any]) -> SyncResult:
        script = self.script
        script.calls.append(f"sync:{source.remote_id}")
        error = script.errors.pop(0) if script.errors else None
        self._changed(script)
        if self.during_sync is not None:
            self.during_sync(source.remote_id)
        if error is not None:
            raise error_from(error)
        if script.hold and script.hold == source.remote_id:
            deadline = time.monotonic() + script.hold_s
            while time.monotonic() < deadline and not (
                script.release_file and os.path.exists(script.release_file)
            ):
                time.sleep(0.05)
        objects = script.objects.get(source.remote_id, {})
        version = int(state.get("version", 0)) + 1
        changed = [Resource(href=h, ics=text, etag=f'"{version}"') for h, text in objects.items()]
        return SyncResult(state={"version": version}, changed=changed, complete=True, requests=1)

    def disconnect(self, session: Session) -> None:
        script = self.script
        script.calls.append("disconnect")
        self._changed(script)
        if script.revoke_error:
            raise TransientError(script.revoke_error)


@pytest.fixture(name="scripted_kind")
def scripted_kind_fixture():
    """The scripted kind, added to the registry's (cached) result for one test."""
    kind = ScriptedKind()
    registered = kinds()
    registered[SLUG] = kind
    try:
        yield kind
    finally:
        registered.pop(SLUG, None)


def scripted_connection(owner, kind: ScriptedKind, *, password: str = "s3cret-pass-word"):
    """A connection made the way the add form makes it (kind.connect, connection_create)."""
    from connectors.services.connections import connection_create

    connected = kind.connect(
        {"url": "https://cal.example.org/dav/", "username": owner.username, "password": password}
    )
    return connection_create(owner=owner, kind=SLUG, connected=connected)
