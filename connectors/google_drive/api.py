"""The Google Drive API calls this kind makes, through google-api-python-client: files.list,
drives.list, changes.getStartPageToken, changes.list, files.get (alt=media) and
files.export.

Shared drives: every call that takes it says supportsAllDrives=true (this client reads
shared drives' files); a shared drive's files are listed with corpora=drive and its
driveId, and its changes come from its own feed (changes.list with driveId), as Google's
"Implement shared drive support" guide asks. Without a drive id the calls are about My
Drive, whose feed leaves shared drives' items out.

Built like the calendar's client (connectors/google_calendar/api.py): the discovery
document bundled with the library (nothing fetched), sent to GOOGLE_DRIVE_API_ROOT
(Google's API root; tests point it at a stand-in), over httplib2 with the connector timeout and
google-auth Credentials that refresh themselves; a refreshed token goes back into the
Session. Errors are sorted for files: a missing file is FileGone, a refused one a
FileError, a busy Google transient, a revoked grant permanent.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httplib2
from django.conf import settings
from google.auth.exceptions import RefreshError
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError
from googleapiclient.http import MediaIoBaseDownload

from connectors.base import (
    FileError,
    FileGone,
    PermanentError,
    Session,
    SourceGone,
    TransientError,
)
from connectors.google_calendar.api import UNREACHABLE, CountingHttp, error_reason
from connectors.google_calendar.oauth import credentials_build, credentials_secrets, refresh_failure

SCOPE = "https://www.googleapis.com/auth/drive.readonly"
RECONNECT_HINT = "Reconnect Google Drive to give this server access again."
PAGE_SIZE = 1000  # files.list's and changes.list's largest page
DRIVES_PAGE_SIZE = 100  # drives.list's largest page
BLOCK_BYTES = 4 * 1024 * 1024  # one ranged request per block of a download
FILE_FIELDS = "id,name,mimeType,md5Checksum,modifiedTime,size,webViewLink,parents,trashed"
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded", "backendError")


class PageTokenExpired(Exception):
    """The saved changes token is no longer valid (410, or 404 on it): list everything."""


def _error(error: HttpError, what: str, *, file: bool = False) -> Exception:
    """An HTTP error in words; `file`: it concerns one file, not the whole drive."""
    status = int(error.resp.status)
    message, reason = error_reason(error)
    said = f" Google said: {message}" if message else ""
    if status == 429 or status >= 500 or reason in RATE_REASONS:
        return TransientError(
            f"Google Drive is busy or failing ({what}: HTTP {status}); it will be tried again.",
            status=status,
        )
    if status == 401:
        return PermanentError(f"Google refused this server's access ({what}: HTTP 401).{said}",
                              hint=RECONNECT_HINT, status=status)  # fmt: skip
    if file and status == 404:
        return FileGone(f"The file is no longer on Google Drive ({what}).", status=status)
    if file:
        return FileError(f"Google Drive refused {what} (HTTP {status}).{said}", status=status)
    if status == 403:
        return PermanentError(f"Google does not allow {what} (HTTP 403).{said}",
                              hint=RECONNECT_HINT, status=status)  # fmt: skip
    return PermanentError(f"Google Drive refused {what} (HTTP {status}).{said}", status=status)


def _shared(drive: str) -> dict[str, Any]:
    """The flags a listing needs to see shared drives' items (none for My Drive's)."""
    return {"supportsAllDrives": True, "includeItemsFromAllDrives": True} if drive else {}


class DriveApi:
    """One connection's Drive client for the length of a sync (kept in session.handles);
    counts its requests for the sync's report."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.exports: dict[str, str] = {}  # file id -> the type a listed Google file exports to
        self.credentials = credentials_build(session)
        self.http = CountingHttp(
            self.credentials,
            http=httplib2.Http(timeout=settings.CONNECTOR_HTTP_TIMEOUT_S),
            max_refresh_attempts=1,
        )
        endpoint = settings.GOOGLE_DRIVE_API_ROOT.rstrip("/") + "/drive/v3/"
        self.service = build(
            "drive", "v3", http=self.http, static_discovery=True, cache_discovery=False,
            client_options={"api_endpoint": endpoint},
        )  # fmt: skip

    @property
    def requests(self) -> int:
        return int(self.http.requests)

    def close(self) -> None:
        self.service.close()

    def _failure(self, error: Exception, what: str, *, file: bool = False) -> Exception:
        if isinstance(error, HttpError):
            return _error(error, what, file=file)
        if isinstance(error, RefreshError):
            return refresh_failure(error, hint=RECONNECT_HINT)
        if isinstance(error, UNREACHABLE):
            return TransientError(f"Google Drive could not be reached ({error}).")
        return TransientError(f"Google sent a reply that is not JSON ({what}).")

    def _execute(
        self, request: Any, what: str, *, token: bool = False, drive: str = ""
    ) -> dict[str, Any]:
        """`token`: the request carries a changes token, which Google may have forgotten.
        `drive`: it names a shared drive, which may be gone or no longer shared (404)."""
        try:
            return dict(request.execute())
        except (HttpError, RefreshError, ValueError, *UNREACHABLE) as error:
            status = int(error.resp.status) if isinstance(error, HttpError) else 0
            if token and status in (404, 410):
                raise PageTokenExpired(str(error)) from error
            if drive and status == 404:
                raise SourceGone(
                    "This shared drive is no longer on Google Drive, or no longer shared "
                    "with this account."
                ) from error
            raise self._failure(error, what) from error
        finally:
            self._token_keep()

    def _token_keep(self) -> None:
        """Record a token google-auth refreshed during the call (saved even on failure)."""
        if self.credentials.token and self.credentials.token != self.session.secrets.get("token"):
            self.session.secrets_update(**credentials_secrets(self.credentials))

    def children(
        self, folder_id: str, *, folders_only: bool = False, drive: str = ""
    ) -> Iterator[dict[str, Any]]:
        """The files (or folders) directly in a folder, not trashed, every page; `drive`:
        the folder is in that shared drive."""
        q = f"'{folder_id}' in parents and trashed=false"
        if folders_only:
            q += " and mimeType='application/vnd.google-apps.folder'"
        files = self.service.files()
        scope = _shared(drive) | ({"corpora": "drive", "driveId": drive} if drive else {})
        request = files.list(q=q, pageSize=PAGE_SIZE, orderBy="name",
                             fields=f"nextPageToken,files({FILE_FIELDS})", **scope)  # fmt: skip
        while request is not None:
            # A 404 on the drive's own top: the drive is gone (a subfolder's is not).
            page = self._execute(request, "listing a folder", drive=drive * (folder_id == drive))
            yield from page.get("files", [])
            request = files.list_next(request, page)

    def account(self) -> str:
        """The account's e-mail address, to label the connection."""
        reply = self._execute(self.service.about().get(fields="user"), "reading your account")
        return str(reply.get("user", {}).get("emailAddress", ""))

    def shared_drives(self) -> Iterator[dict[str, Any]]:
        """The shared drives this account is a member of (id and name), every page."""
        drives = self.service.drives()
        request = drives.list(pageSize=DRIVES_PAGE_SIZE, fields="nextPageToken,drives(id,name)")
        while request is not None:
            page = self._execute(request, "listing your shared drives")
            yield from page.get("drives", [])
            request = drives.list_next(request, page)

    def start_page_token(self, drive: str = "") -> str:
        """Where the changes feed stands now: My Drive's, or shared drive `drive`'s."""
        scope = {"driveId": drive, "supportsAllDrives": True} if drive else {}
        request = self.service.changes().getStartPageToken(**scope)
        reply = self._execute(request, "starting the changes", drive=drive)
        return str(reply["startPageToken"])

    def changes(self, token: str, drive: str = "") -> tuple[list[dict[str, Any]], str]:
        """Every change since `token` (in shared drive `drive`'s own feed when given), and
        the token for the next sync."""
        changes = self.service.changes()
        fields = (
            "nextPageToken,newStartPageToken,"
            f"changes(changeType,driveId,fileId,removed,file({FILE_FIELDS}))"
        )
        scope = _shared(drive) | ({"driveId": drive} if drive else {})
        found: list[dict[str, Any]] = []
        while True:
            request = changes.list(pageToken=token, pageSize=PAGE_SIZE, fields=fields,
                                   includeRemoved=True, spaces="drive", **scope)  # fmt: skip
            page = self._execute(request, "reading the changes", token=True)
            found.extend(page.get("changes", []))
            if page.get("newStartPageToken"):
                return found, str(page["newStartPageToken"])
            token = str(page["nextPageToken"])

    def file_get(self, file_id: str) -> dict[str, Any]:
        """One file's metadata ("root" gives My Drive's own id, which parents name)."""
        request = self.service.files().get(
            fileId=file_id, fields=FILE_FIELDS, supportsAllDrives=True
        )
        return self._execute(request, "reading a folder")

    def download(self, file_id: str, export_type: str = "") -> Iterator[bytes]:
        """The file's bytes, a block per request (an export in one); errors as for one file."""
        files = self.service.files()
        if export_type:
            request = files.export_media(fileId=file_id, mimeType=export_type)
            what = "exporting the file"
        else:
            request = files.get_media(fileId=file_id, supportsAllDrives=True)
            what = "downloading the file"
        buffer = io.BytesIO()
        downloader = MediaIoBaseDownload(buffer, request, chunksize=BLOCK_BYTES)
        done = False
        while not done:
            try:
                _, done = downloader.next_chunk()
            except (HttpError, RefreshError, *UNREACHABLE) as error:
                failure = self._failure(error, what, file=True)
                raise failure from error
            finally:
                self._token_keep()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
