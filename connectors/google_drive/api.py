"""The Google Drive API calls this kind makes, through google-api-python-client: files.list,
changes.getStartPageToken, changes.list, files.get (alt=media) and files.export.

Built like the calendar's client (connectors/google_calendar/api.py): the discovery
document bundled with the library (nothing fetched), sent to GOOGLE_CALENDAR_API_ROOT
(Google's API root, shared by its APIs), over httplib2 with the connector timeout and
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

from connectors.base import FileError, FileGone, PermanentError, Session, TransientError
from connectors.google_calendar.api import UNREACHABLE, CountingHttp, error_reason
from connectors.google_calendar.oauth import credentials_build, credentials_secrets, refresh_failure

SCOPE = "https://www.googleapis.com/auth/drive.readonly"
RECONNECT_HINT = "Reconnect Google Drive to give this server access again."
PAGE_SIZE = 1000  # files.list's and changes.list's largest page
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
        endpoint = settings.GOOGLE_CALENDAR_API_ROOT.rstrip("/") + "/drive/v3/"
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

    def _execute(self, request: Any, what: str, *, token: bool = False) -> dict[str, Any]:
        """`token`: the request carries a changes token, which Google may have forgotten."""
        try:
            return dict(request.execute())
        except (HttpError, RefreshError, ValueError, *UNREACHABLE) as error:
            expired = isinstance(error, HttpError) and int(error.resp.status) in (404, 410)
            if token and expired:
                raise PageTokenExpired(str(error)) from error
            raise self._failure(error, what) from error
        finally:
            self._token_keep()

    def _token_keep(self) -> None:
        """Record a token google-auth refreshed during the call (saved even on failure)."""
        if self.credentials.token and self.credentials.token != self.session.secrets.get("token"):
            self.session.secrets_update(**credentials_secrets(self.credentials))

    def children(self, folder_id: str, *, folders_only: bool = False) -> Iterator[dict[str, Any]]:
        """The files (or folders) directly in a folder, not trashed, every page."""
        q = f"'{folder_id}' in parents and trashed=false"
        if folders_only:
            q += " and mimeType='application/vnd.google-apps.folder'"
        files = self.service.files()
        request = files.list(q=q, pageSize=PAGE_SIZE, orderBy="name",
                             fields=f"nextPageToken,files({FILE_FIELDS})")  # fmt: skip
        while request is not None:
            page = self._execute(request, "listing a folder")
            yield from page.get("files", [])
            request = files.list_next(request, page)

    def account(self) -> str:
        """The account's e-mail address, to label the connection."""
        reply = self._execute(self.service.about().get(fields="user"), "reading your account")
        return str(reply.get("user", {}).get("emailAddress", ""))

    def start_page_token(self) -> str:
        reply = self._execute(self.service.changes().getStartPageToken(), "starting the changes")
        return str(reply["startPageToken"])

    def changes(self, token: str) -> tuple[list[dict[str, Any]], str]:
        """Every change since `token`, and the token for the next sync."""
        changes = self.service.changes()
        fields = f"nextPageToken,newStartPageToken,changes(fileId,removed,file({FILE_FIELDS}))"
        found: list[dict[str, Any]] = []
        while True:
            request = changes.list(pageToken=token, pageSize=PAGE_SIZE, fields=fields,
                                   includeRemoved=True, spaces="drive")  # fmt: skip
            page = self._execute(request, "reading the changes", token=True)
            found.extend(page.get("changes", []))
            if page.get("newStartPageToken"):
                return found, str(page["newStartPageToken"])
            token = str(page["nextPageToken"])

    def file_get(self, file_id: str) -> dict[str, Any]:
        """One file's metadata ("root" gives My Drive's own id, which parents name)."""
        request = self.service.files().get(fileId=file_id, fields=FILE_FIELDS)
        return self._execute(request, "reading a folder")

    def download(self, file_id: str, export_type: str = "") -> Iterator[bytes]:
        """The file's bytes, a block per request (an export in one); errors as for one file."""
        files = self.service.files()
        if export_type:
            request = files.export_media(fileId=file_id, mimeType=export_type)
            what = "exporting the file"
        else:
            request = files.get_media(fileId=file_id)
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
