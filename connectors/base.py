"""The contract every connector kind fulfils, and the errors it raises.

A kind lives in its own sub-package (`connectors/<slug>/`) whose `kind.py` defines a
`ConnectorKind` subclass; connectors/registry.py finds it, so adding a kind means
adding one folder. A kind talks to its server and translates; it never touches the
database: connectors/services/ stores what it returns (modelled on healthchecks'
integrations, with errors flagged permanent or transient).

The calls, in the order a connection lives them:
- `connect(data)`: validate the form's data against the server ("test connection")
  and return the non-secret config, the secrets, a label and the sources on offer.
- `sources(session)`: the calendars (or folders) the account offers now.
- `sync(session, source, state)`: everything that changed in one source since `state`
  (the dict the previous sync returned), as one `SyncResult`.
- `create_event(session, source, draft)`: write an event (writable kinds only).
- `disconnect(session)`: best effort (revoke a token); the rows go anyway.

Drive kinds (`category = "drive"`: WebDAV, Google Drive) offer folders as sources and,
instead of `sync` and `create_event`, implement:
- `list_files(session, source, state)`: the files of one folder as a `FileListing`: the
  whole folder (`complete`, as WebDAV's PROPFIND gives it) or what changed since `state`
  (a changes feed). Each `RemoteFile` carries its revision (ETag, version): the service
  (connectors/services/files.py) compares it with what it stored and downloads only
  files whose revision moved. `SourceGone` when the folder itself is no longer there.
- `download(session, source, file)`: the file's bytes as an iterator of blocks, read
  lazily (the caller stops at its size limit and closes the iterator). `FileGone` when
  the file vanished since the listing, `FileError` for any other failure of this one
  file; other ConnectorErrors (wrong password, server unreachable) stop the sync.
A drive source's `remote_id` is path-like where the kind has paths: a source whose
remote_id starts with another included source's remote_id lies inside it, and is read
there only once.

A kind that keeps a client open for the length of one sync (an HTTP connection pool)
stores it in `session.handles`; whoever made the Session calls `session.close()`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar


class ConnectorError(Exception):
    """Something the user must be told, in words: what happened, where, how to fix it.

    `permanent` errors (wrong password, revoked consent, calendar gone) pause the
    connection until the user acts; transient ones (5xx, timeouts, refused) retry."""

    permanent: ClassVar[bool] = False

    def __init__(
        self, message: str, *, hint: str = "", url: str = "", status: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.url = url
        self.status = status

    def __str__(self) -> str:
        return self.message


class TransientError(ConnectorError):
    permanent = False


class PermanentError(ConnectorError):
    permanent = True


class SourceGone(PermanentError):
    """The chosen folder (or calendar) is no longer on the server: the sync forgets what
    came from it and goes on with the other sources."""


class FileError(ConnectorError):
    """One file could not be read (refused, a server error on it): recorded on that
    file, retried at the next sync; the sync goes on."""


class FileGone(FileError):
    """The file vanished between the listing and its download."""


@dataclass
class RemoteSource:
    """A calendar (or folder) as the server describes it."""

    remote_id: str
    name: str
    color: str = ""
    time_zone: str = ""
    writable: bool = False


@dataclass
class Resource:
    """One remote calendar object: its href (key within the source), ETag and the
    iCalendar text of its VEVENTs (a VCALENDAR)."""

    href: str
    ics: str
    etag: str = ""


@dataclass
class SyncResult:
    """What changed in one source since the state the sync started from.

    `complete` means `changed` is the whole source (a full listing): everything else
    stored for it is gone. Otherwise `deleted` names the hrefs that went away.
    `state` is saved with the changes, in one transaction, and handed to the next sync.
    `problems` are items skipped with their reason (a malformed event), shown to the
    user; the rest is kept."""

    state: dict[str, Any]
    changed: list[Resource] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    complete: bool = False
    unchanged: bool = False  # nothing to apply (304, same sync token)
    problems: list[str] = field(default_factory=list)
    requests: int = 0  # HTTP requests made, for the benchmark and the run's detail


@dataclass
class RemoteFile:
    """One file in a drive folder, as its listing describes it."""

    remote_id: str  # its key within the source: the href path (WebDAV), the file id (Google)
    path: str  # what the user sees: "Reports/2024/q1.pdf"
    revision: str  # ETag or version: changes whenever the content may have changed
    size: int | None = None
    mime_type: str = ""
    modified_at: datetime | None = None
    web_url: str = ""  # where the user opens the file (or its folder)

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass
class FileListing:
    """The files of one drive folder: all of them (`complete`: whatever is stored and not
    listed is gone) or those changed since the state given, with `deleted` naming the
    remote_ids that went away. `unchanged`: the kind knows nothing changed (an empty
    changes feed). `state` is saved once the listing's files are stored."""

    state: dict[str, Any]
    files: list[RemoteFile] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    complete: bool = False
    unchanged: bool = False
    requests: int = 0  # HTTP requests made for the listing
    problems: list[str] = field(default_factory=list)  # entries skipped, and why


@dataclass
class Connected:
    """A connection that passed its test: what to store (config is not secret)."""

    label: str
    display_url: str
    config: dict[str, Any]
    secrets: dict[str, Any]
    sources: list[RemoteSource]


@dataclass
class EventDraft:
    """An event the user confirmed, to write to a calendar."""

    title: str
    start: datetime | date  # a date for an all-day event
    end: datetime | date
    time_zone: str = "UTC"
    location: str = ""
    description: str = ""


@dataclass
class Session:
    """One connection's config and secrets while a kind works with it. A kind that
    refreshes a token updates `secrets` and sets `secrets_changed`; the caller saves."""

    config: dict[str, Any]
    secrets: dict[str, Any]
    secrets_changed: bool = False
    # Clients a kind keeps open for the length of one sync, by name (closed by close()).
    handles: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def secrets_update(self, **values: Any) -> None:
        self.secrets = {**self.secrets, **values}
        self.secrets_changed = True

    def close(self) -> None:
        handles, self.handles = self.handles, {}
        for handle in handles.values():
            handle.close()


class ConnectorKind:
    """Base class: one subclass per kind, in `connectors/<slug>/kind.py`."""

    slug: ClassVar[str]
    name: ClassVar[str]
    category: ClassVar[str] = "calendar"
    description: ClassVar[str] = ""
    writable: ClassVar[bool] = False  # can events be added to its calendars?
    # A kind connected by a redirect (OAuth) instead of a form.
    uses_oauth: ClassVar[bool] = False

    def not_configured(self) -> str:
        """Why this kind cannot be used on this server ("" when it can), with the fix."""
        return ""

    def form_class(self) -> Any:
        """The Django form that collects what `connect` needs (None for OAuth kinds)."""
        return None

    def connect(self, data: dict[str, Any]) -> Connected:
        raise NotImplementedError

    def sources(self, session: Session) -> list[RemoteSource]:
        raise NotImplementedError

    def sync(self, session: Session, source: RemoteSource, state: dict[str, Any]) -> SyncResult:
        raise NotImplementedError

    def create_event(self, session: Session, source: RemoteSource, draft: EventDraft) -> str:
        """Write the event; returns its href/id on the server."""
        raise PermanentError(f"{self.name} calendars are read-only.")

    def disconnect(self, session: Session) -> None:
        return None

    # Drive kinds (category "drive") -------------------------------------------------

    def list_files(
        self, session: Session, source: RemoteSource, state: dict[str, Any]
    ) -> FileListing:
        raise NotImplementedError

    def download(self, session: Session, source: RemoteSource, file: RemoteFile) -> Iterator[bytes]:
        raise NotImplementedError
