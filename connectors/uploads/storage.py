"""The uploaded files on disk: UPLOADS_ROOT/<owner id>/<key> with <key>.json beside it.

The key is generated (hex), never taken from the request; the name the user gave is only
metadata (in the JSON sidecar), cleaned for display. A file is written to a hidden
`.part` file and renamed into place, its sidecar last: a listing (which reads sidecars)
never sees a half-written file. Uploading a name that is already there replaces that
file (a new revision: the next sync reads it again).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from django.conf import settings

BLOCK = 1 << 20
MAX_NAME_CHARS = 200
_KEY = re.compile(r"^[0-9a-f]{32}$")
_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


class TooLarge(Exception):
    """The body passed `max_bytes` while it was written (nothing is kept)."""


@dataclass(frozen=True)
class StoredFile:
    key: str
    name: str
    size: int
    sha256: str
    mime_type: str
    uploaded_at: datetime


def owner_dir(owner_id: int) -> Path:
    return Path(settings.UPLOADS_ROOT) / str(int(owner_id))


def clean_name(name: str) -> str:
    """A display name from what the browser sent: the last path part, no control
    characters, at most MAX_NAME_CHARS (keeping the extension), never empty or a dot."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip().lstrip(".") or "unnamed"
    if len(name) > MAX_NAME_CHARS:
        suffix = PurePosixPath(name).suffix
        suffix = suffix if len(suffix) <= 16 else ""
        name = name[: MAX_NAME_CHARS - len(suffix)].rstrip() + suffix
    return name


def _is_key(key: str) -> bool:
    return bool(_KEY.match(key))


def _read_meta(path: Path) -> StoredFile | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return StoredFile(
            key=path.stem, name=str(data["name"]), size=int(data["size"]),
            sha256=str(data["sha256"]), mime_type=str(data.get("mime_type", "")),
            uploaded_at=datetime.fromisoformat(data["uploaded_at"]),
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None  # a sidecar being written, or damaged: not listed


def files_list(owner_id: int) -> list[StoredFile]:
    """The owner's stored files (those whose data and sidecar are both in place)."""
    folder = owner_dir(owner_id)
    if not folder.is_dir():
        return []
    found = []
    for meta in sorted(folder.glob("*.json")):
        if not _is_key(meta.stem) or not (folder / meta.stem).is_file():
            continue
        stored = _read_meta(meta)
        if stored is not None:
            found.append(stored)
    return found


def _key_for(owner_id: int, name: str) -> str:
    """The key of the stored file with this name (replaced by a new upload), or a new one."""
    for stored in files_list(owner_id):
        if stored.name == name:
            return stored.key
    return secrets.token_hex(16)


def part_write(owner_id: int, blocks: Iterable[bytes], *, max_bytes: int) -> tuple[Path, int, str]:
    """Stream `blocks` to a hidden part file: (its path, size, sha256). TooLarge past
    `max_bytes` (the part file removed)."""
    folder = owner_dir(owner_id)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f".{secrets.token_hex(16)}.part"
    digest, size = hashlib.sha256(), 0
    try:
        with part.open("wb") as out:
            for block in blocks:
                size += len(block)
                if size > max_bytes:
                    raise TooLarge
                digest.update(block)
                out.write(block)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return part, size, digest.hexdigest()


def part_keep(
    owner_id: int, part: Path, *, name: str, size: int, sha256: str, mime_type: str
) -> StoredFile:
    """Move a written part file into place under its key, then write its sidecar."""
    folder = owner_dir(owner_id)
    key = _key_for(owner_id, name)
    stored = StoredFile(key, name, size, sha256, mime_type[:255], datetime.now(UTC))
    os.replace(part, folder / key)
    sidecar = folder / f".{key}.json.part"
    sidecar.write_text(
        json.dumps({
            "name": name, "size": size, "sha256": sha256, "mime_type": stored.mime_type,
            "uploaded_at": stored.uploaded_at.isoformat(),
        }),
        encoding="utf-8",
    )  # fmt: skip
    os.replace(sidecar, folder / f"{key}.json")
    return stored


def file_path(owner_id: int, key: str) -> Path | None:
    """Where the stored file with this key lies; None for a key that is not one of ours."""
    if not _is_key(key):
        return None
    path = owner_dir(owner_id) / key
    return path if path.is_file() else None


def file_blocks(path: Path) -> Iterator[bytes]:
    """The file's bytes in blocks, opened now (FileNotFoundError here, not mid-read)."""
    stream = path.open("rb")

    def blocks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(BLOCK):
                yield block

    return blocks()


def file_delete(owner_id: int, key: str) -> bool:
    """Remove a stored file and its sidecar (sidecar first: it leaves the listing at once)."""
    if not _is_key(key):
        return False
    folder = owner_dir(owner_id)
    existed = (folder / f"{key}.json").exists() or (folder / key).exists()
    (folder / f"{key}.json").unlink(missing_ok=True)
    (folder / key).unlink(missing_ok=True)
    return existed


def owner_files_remove(owner_id: int) -> None:
    shutil.rmtree(owner_dir(owner_id), ignore_errors=True)
