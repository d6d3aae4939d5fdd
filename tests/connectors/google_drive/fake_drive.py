"""A local stand-in for the Google Drive v3 endpoints the Drive kind uses, added to the
OAuth stand-in of tests/connectors/fake_google.py, with the response shapes of Google's
reference: about.get, files.list (q limited to "'<id>' in parents and trashed=false",
optionally of folders only), files.get (metadata, or alt=media with Range requests),
files.export, changes.getStartPageToken and changes.list (paging, removals, trashing,
410 for a forgotten token), drives.list.

Shared drives as Google serves them: a shared drive's top folder has the drive's id,
its items carry `driveId`, and Google hides them from any call without
supportsAllDrives=true (files.get and alt=media answer 404 "File not found"; files.export
has no such parameter and reads them); files.list
shows them only with corpora=drive, the driveId, includeItemsFromAllDrives=true and
supportsAllDrives=true (a driveId without the rest is a 400 or 403, as at Google);
changes.getStartPageToken and changes.list with a driveId read that drive's own feed
(changes of its items, and `changeType: drive` changes of the drive itself), and My
Drive's feed leaves them out. A deleted shared drive is a 404 "Shared drive not found"."""

from __future__ import annotations

import hashlib
import itertools
import re
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.connectors.fake_google import FakeGoogle, _error

ROOT = "0AMyDriveRoot"
FOLDER = "application/vnd.google-apps.folder"
ACCOUNT = "olivia@example.com"
QUERY = re.compile(r"^'([^']+)' in parents and trashed=false(?: and mimeType='([^']+)')?$")
META = (
    "id",
    "name",
    "mimeType",
    "md5Checksum",
    "modifiedTime",
    "size",
    "webViewLink",
    "parents",
    "trashed",
    "driveId",
)


class FakeDrive(FakeGoogle):
    def __init__(self) -> None:
        super().__init__()
        self.granted_scope = "https://www.googleapis.com/auth/drive.readonly"
        self.files: dict[str, dict[str, Any]] = {
            ROOT: {"id": ROOT, "name": "My Drive", "mimeType": FOLDER, "parents": []}
        }
        self.content: dict[str, bytes] = {}
        self.log: list[str] = []  # file ids, one per change; a token is a position in it
        self.forgotten_below = 0  # tokens below this position get 410
        self.page_size_changes = 100
        self.ids = itertools.count(1)
        self.clock = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
        self.drive_calls: list[str] = []  # "<method> <path>?<query>" of each Drive request
        self.revoke_at_download = 0  # revoke the grant at the n-th download (0: never)
        self.vanish_on_download: set[str] = set()  # file ids deleted as their download starts
        self.busy = 0  # answer the next n Drive requests with 403 userRateLimitExceeded
        self.drives: dict[str, str] = {}  # shared drive id -> name
        self.drive_of: dict[str, str] = {}  # item id -> its shared drive (kept once removed)

    # What tests arrange -------------------------------------------------------------

    def shared_drive(self, name: str) -> str:
        """A shared drive the account is a member of; its id is its top folder's."""
        drive_id = f"0AShared{next(self.ids):03d}"
        self.drives[drive_id] = name
        self.files[drive_id] = {"id": drive_id, "name": name, "mimeType": FOLDER,
                                "parents": [], "driveId": drive_id}  # fmt: skip
        self.drive_of[drive_id] = drive_id
        return drive_id

    def shared_drive_delete(self, drive_id: str) -> None:
        """The drive is deleted (or the account removed from it): its feed says so."""
        del self.drives[drive_id]
        for file_id, drive in self.drive_of.items():
            if drive == drive_id:
                self.files.pop(file_id, None)
        self.log.append(f"drive:{drive_id}")

    def put(
        self,
        name: str,
        parent: str = ROOT,
        *,
        mime: str = "text/plain",
        content: bytes | str = b"",
        file_id: str = "",
    ) -> str:
        """Create or change a file (or a folder) and log the change; a parent in a shared
        drive puts it in that drive."""
        file_id = file_id or f"f{next(self.ids):03d}"
        data = content.encode() if isinstance(content, str) else content
        self.clock += timedelta(minutes=1)
        item = {
            "id": file_id,
            "name": name,
            "mimeType": mime,
            "parents": [parent],
            "trashed": False,
            "modifiedTime": self.clock.isoformat().replace("+00:00", "Z"),
            "webViewLink": f"https://drive.google.com/file/d/{file_id}/view",
        }
        if not mime.startswith("application/vnd.google-apps."):
            item |= {"md5Checksum": hashlib.md5(data).hexdigest(), "size": str(len(data))}
        if drive := self.drive_of.get(parent):
            item["driveId"] = self.drive_of[file_id] = drive
        self.files[file_id] = item
        self.content[file_id] = data
        self.log.append(file_id)
        return file_id

    def folder(self, name: str, parent: str = ROOT) -> str:
        return self.put(name, parent, mime=FOLDER)

    def trash(self, file_id: str) -> None:
        self.files[file_id]["trashed"] = True
        self.log.append(file_id)

    def remove(self, file_id: str) -> None:
        """Deleted for good: changes.list reports it as removed, without the file."""
        del self.files[file_id]
        self.log.append(file_id)

    def move(self, file_id: str, parent: str) -> None:
        self.files[file_id]["parents"] = [parent]
        self.log.append(file_id)

    def tokens_forget(self) -> None:
        self.forgotten_below = len(self.log) + 1

    # The server -----------------------------------------------------------------------

    def dispatch(self, request: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(request.path)
        if not parts.path.startswith("/drive/v3/"):
            return super().dispatch(request, method)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        path = parts.path.removeprefix("/drive/v3/")
        self.drive_calls.append(f"{method} {path}?{parts.query}")
        is_media = query.get("alt") == "media" or path.endswith("/export")
        if is_media and self.revoke_at_download:
            self.revoke_at_download -= 1
            if not self.revoke_at_download:
                self.revoke_all()
        if self.busy:
            self.busy -= 1
            return self._json(
                request,
                403,
                _error(
                    403, "User Rate Limit Exceeded.", "userRateLimitExceeded", "PERMISSION_DENIED"
                ),
            )
        if is_media:
            for file_id in self.vanish_on_download & set(self.files):
                if file_id in path:
                    self.remove(file_id)
        if not self._authorized(request):
            return self._json(
                request,
                401,
                _error(
                    401,
                    "Request had invalid authentication credentials.",
                    "authError",
                    "UNAUTHENTICATED",
                ),
            )
        if path == "about":
            return self._json(
                request,
                200,
                {
                    "kind": "drive#about",
                    "user": {
                        "kind": "drive#user",
                        "displayName": "Olivia",
                        "emailAddress": ACCOUNT,
                    },
                },
            )
        if path == "drives":
            return self._drives(request, query)
        if self._shared_refused(request, path, query):
            return None
        if path == "files":
            return self._list(request, query)
        if path == "changes/startPageToken":
            return self._json(
                request, 200, {"kind": "drive#startPageToken", "startPageToken": str(len(self.log))}
            )
        if path == "changes":
            return self._changes(request, query)
        segments = [unquote(s) for s in path.split("/")]
        file_id = ROOT if segments[1:2] == ["root"] else (segments[1:2] or [""])[0]
        item = self.files.get(file_id)
        exporting = segments[2:3] == ["export"]  # files.export takes no supportsAllDrives
        if item and "driveId" in item and query.get("supportsAllDrives") != "true":
            item = item if exporting else None  # hidden from clients that do not say so
        if segments[0] != "files" or item is None:
            return self._json(
                request, 404, _error(404, f"File not found: {file_id}.", "notFound", "NOT_FOUND")
            )
        if len(segments) == 3 and segments[2] == "export":
            return self._export(request, item, query)
        if query.get("alt") == "media":
            return self._media(request, item)
        return self._json(request, 200, self._meta(item))

    def _meta(self, item: dict[str, Any]) -> dict[str, Any]:
        return {"kind": "drive#file"} | {k: item[k] for k in META if k in item}

    def _shared_refused(
        self, request: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> bool:
        """Google's answers to a driveId without the flags, or of a drive that is gone
        (True: answered)."""
        drive = query.get("driveId")
        if not drive:
            return False
        if path == "files" and not (
            query.get("corpora") == "drive" and query.get("includeItemsFromAllDrives") == "true"
        ):
            message = (
                "The includeItemsFromAllDrives parameter must be set to true and corpora to "
                "drive when driveId is specified."
            )
            self._json(request, 400, _error(400, message, "badRequest", "INVALID_ARGUMENT"))
            return True
        if query.get("supportsAllDrives") != "true":
            message = "The driveId parameter requires supportsAllDrives to be set to true."
            self._json(request, 403, _error(403, message, "teamDrivesParameterNotSupported",
                                            "PERMISSION_DENIED"))  # fmt: skip
            return True
        if drive not in self.drives:
            message = f"Shared drive not found: {drive}"
            self._json(request, 404, _error(404, message, "notFound", "NOT_FOUND"))
            return True
        return False

    def _drives(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        start = int(query.get("pageToken", 0))
        size = min(int(query.get("pageSize", 10)), 100, self.page_size)
        drives = sorted(self.drives.items(), key=lambda pair: pair[1])
        body: dict[str, Any] = {
            "kind": "drive#driveList",
            "drives": [
                {"kind": "drive#drive", "id": drive_id, "name": name}
                for drive_id, name in drives[start : start + size]
            ],
        }
        if start + size < len(drives):
            body["nextPageToken"] = str(start + size)
        return self._json(request, 200, body)

    def _list(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        match = QUERY.match(query.get("q", ""))
        assert match, f"unexpected q: {query.get('q')}"
        parent = ROOT if match.group(1) == "root" else match.group(1)
        drive = query.get("driveId")  # checked by _shared_refused: with all its flags
        found = sorted(
            (
                item
                for item in self.files.values()
                if parent in item["parents"]
                and not item.get("trashed")
                and item.get("driveId") == drive
                and (not match.group(2) or item["mimeType"] == match.group(2))
            ),
            key=lambda item: item["name"],
        )
        start = int(query.get("pageToken", 0))
        size = min(int(query.get("pageSize", 100)), self.page_size)
        body: dict[str, Any] = {
            "kind": "drive#fileList",
            "incompleteSearch": False,
            "files": [self._meta(i) for i in found[start : start + size]],
        }
        if start + size < len(found):
            body["nextPageToken"] = str(start + size)
        return self._json(request, 200, body)

    def _changes(self, request: BaseHTTPRequestHandler, query: dict[str, str]) -> None:
        start = int(query["pageToken"])
        if start < self.forgotten_below or start > len(self.log):
            return self._json(
                request, 410, _error(410, "The page token is no longer valid.", "invalid", "GONE")
            )
        size = min(int(query.get("pageSize", 100)), self.page_size_changes)
        drive = query.get("driveId")  # that drive's own feed; else My Drive's
        changes = []
        for entry in self.log[start : start + size]:
            if entry.startswith("drive:"):  # a shared drive deleted: in its own feed
                drive_id = entry.removeprefix("drive:")
                if drive_id == drive:
                    changes.append({"kind": "drive#change", "changeType": "drive",
                                    "driveId": drive_id, "removed": True})  # fmt: skip
                continue
            file_id = entry
            if self.drive_of.get(file_id) != drive:
                continue  # another drive's item (a position still counts for the token)
            change: dict[str, Any] = {
                "kind": "drive#change",
                "changeType": "file",
                "fileId": file_id,
                "removed": file_id not in self.files,
            }
            if file_id in self.files:
                change["file"] = self._meta(self.files[file_id])
            changes.append(change)
        body: dict[str, Any] = {"kind": "drive#changeList", "changes": changes}
        if start + size < len(self.log):
            body["nextPageToken"] = str(start + size)
        else:
            body["newStartPageToken"] = str(len(self.log))
        return self._json(request, 200, body)

    def _media(self, request: BaseHTTPRequestHandler, item: dict[str, Any]) -> None:
        if item["mimeType"].startswith("application/vnd.google-apps."):
            return self._json(
                request,
                403,
                _error(
                    403,
                    "Only files with binary content can be downloaded.",
                    "fileNotDownloadable",
                    "PERMISSION_DENIED",
                ),
            )
        data = self.content[item["id"]]
        ranged = re.match(r"bytes=(\d+)-(\d+)", request.headers.get("Range", ""))
        status, headers = 200, {}
        if ranged:
            first, last = int(ranged.group(1)), min(int(ranged.group(2)), len(data) - 1)
            headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
            data, status = data[first : last + 1], 206
        return self._bytes(request, status, data, "application/octet-stream", headers)

    def _export(
        self, request: BaseHTTPRequestHandler, item: dict[str, Any], query: dict[str, str]
    ) -> None:
        wanted = {
            "application/vnd.google-apps.document": "text/plain",
            "application/vnd.google-apps.spreadsheet": "text/csv",
            "application/vnd.google-apps.presentation": "text/plain",
        }
        if wanted.get(item["mimeType"]) != query.get("mimeType"):
            return self._json(
                request,
                400,
                _error(
                    400,
                    "Export only supports Docs Editors files.",
                    "badRequest",
                    "INVALID_ARGUMENT",
                ),
            )
        return self._bytes(request, 200, self.content[item["id"]], query["mimeType"], {})

    def _bytes(
        self,
        request: BaseHTTPRequestHandler,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str],
    ) -> None:
        request.send_response(status)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(data)))
        for key, value in headers.items():
            request.send_header(key, value)
        request.end_headers()
        request.wfile.write(data)
