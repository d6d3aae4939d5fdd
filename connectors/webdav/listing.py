"""What a WebDAV account holds: its folders (the sources on offer) and, for a chosen
folder, every file below it with the properties that say whether it changed (ETag,
last-modified, size) — one PROPFIND with Depth: infinity where the server allows it,
else one Depth: 1 PROPFIND per folder.

Hidden entries (names starting with ".") are left out, as file managers do; so is any
href outside the connected address (a server's answer never widens what is read).
"""

from __future__ import annotations

from collections import deque
from datetime import UTC
from urllib.parse import urlsplit

from webdav4.multistatus import Response

from connectors.base import ConnectorError, PermanentError, RemoteFile, RemoteSource, SourceGone
from connectors.webdav.client import OWNCLOUD_NS, Drive, ListingTooLarge

ROOT_NAME = "All files"
MAX_DEPTH = 64  # folders below the chosen one: a symlink loop on the server ends here


def _name(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _is_folder(response: Response) -> bool:
    return bool(response.properties.collection)


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/") if part)


def root_list(drive: Drive) -> list[Response]:
    """The entries directly inside the connected address (it must be a folder)."""
    responses, _ = drive.propfind(drive.base_path, depth="1")
    own = next((r for r in responses if r.path_norm == drive.base_path.rstrip("/")), None)
    if own is not None and not _is_folder(own):
        raise PermanentError(
            f"{drive.url} is a file, not a folder: connect the folder that holds it.",
            url=drive.url,
        )
    return [r for r in responses if r is not own]


def folder_sources(drive: Drive, entries: list[Response]) -> list[RemoteSource]:
    """The root ("All files") and each visible top-level folder, as sources."""
    sources = [RemoteSource(remote_id=drive.base_path, name=ROOT_NAME)]
    for response in sorted(entries, key=lambda r: r.path_norm.lower()):
        path = response.path_norm
        if not _is_folder(response) or not drive.inside(path) or _hidden(_name(path)):
            continue
        name = response.properties.display_name or _name(path)
        sources.append(RemoteSource(remote_id=path + "/", name=name[:300]))
    return sources


def _web_url(drive: Drive, response: Response) -> str:
    """Nextcloud and ownCloud open a file by its id (/index.php/f/ID); elsewhere the
    file's own address (the browser asks for the login)."""
    fileid = response.response_xml.findtext(f".//{{{OWNCLOUD_NS}}}fileid")
    parts = urlsplit(drive.url)
    prefix, found, _ = parts.path.partition("/remote.php/")
    if fileid and found:
        return f"{parts.scheme}://{parts.netloc}{prefix}/index.php/f/{fileid.strip()}"
    return drive.url_of(response.path_norm)


def _remote_file(drive: Drive, response: Response) -> RemoteFile:
    props = response.properties
    modified = props.modified
    if modified is not None and modified.tzinfo is None:
        modified = modified.replace(tzinfo=UTC)
    revision = props.etag or ""
    if not revision and (modified or props.content_length is not None):
        revision = f"{modified.isoformat() if modified else ''}|{props.content_length}"
    return RemoteFile(
        remote_id=response.path_norm,
        path=response.path_norm[len(drive.base_path) :],
        revision=revision[:300],
        size=props.content_length,
        mime_type=(props.content_type or "").split(";")[0].strip()[:255],
        modified_at=modified,
        web_url=_web_url(drive, response),
    )


class _Walk:
    """Collects the files of one folder's PROPFIND answers."""

    def __init__(self, drive: Drive, folder: str) -> None:
        self.drive, self.folder = drive, folder.rstrip("/")
        self.files: dict[str, RemoteFile] = {}
        self.problems: list[str] = []

    def take(self, responses: list[Response], listed: str) -> list[str]:
        """Files kept; returns the sub-folders found (other than `listed` itself)."""
        folders = []
        for response in responses:
            path = response.path_norm
            if path == listed.rstrip("/") or not path.startswith(self.folder + "/"):
                continue  # the folder itself, or outside it
            relative = path[len(self.folder) + 1 :]
            if _hidden(relative) or relative.count("/") >= MAX_DEPTH:
                continue
            if response.status_code and response.status_code >= 400:
                continue
            if _is_folder(response):
                folders.append(path + "/")
            else:
                self.files[path] = _remote_file(self.drive, response)
        return folders


def files_list(
    drive: Drive, folder: str, *, infinity: bool = True
) -> tuple[list[RemoteFile], list[str], bool]:
    """Every file below `folder` (a source's remote_id), the problems met, and whether
    Depth: infinity worked (kept in the source's state: no second try when refused).
    SourceGone when the folder itself is no longer there."""
    walk = _Walk(drive, folder)
    if infinity:
        try:
            responses, problems = drive.propfind(folder, depth="infinity")
        except ListingTooLarge:
            pass
        except ConnectorError as error:
            if error.status in (404, 410):
                raise _gone(folder, error) from error
            if error.status in (None, 401) or error.status >= 500:
                raise
            # 400, 403 (propfind-finite-depth), 501: walk one level at a time instead
        else:
            walk.take(responses, folder)
            walk.problems += problems
            return sorted(walk.files.values(), key=lambda f: f.path), walk.problems, True
    queue = deque([folder])
    seen = set()
    while queue:
        current = queue.popleft()
        if current in seen:
            continue
        seen.add(current)
        try:
            responses, problems = drive.propfind(current, depth="1")
        except ConnectorError as error:
            if error.status not in (404, 410):
                raise
            if current == folder:
                raise _gone(folder, error) from error
            continue  # a sub-folder removed while we walk: its files are gone too
        walk.problems += problems
        queue.extend(walk.take(responses, current))
    return sorted(walk.files.values(), key=lambda f: f.path), walk.problems, False


def _gone(folder: str, error: ConnectorError) -> SourceGone:
    return SourceGone(
        f"The folder {_name(folder) or folder!r} is no longer on the server.",
        hint="It was deleted, moved or unshared: choose folders again on the connections page.",
        url=error.url, status=error.status,
    )  # fmt: skip
