"""A download written to disk in bounded memory, stopped as soon as it passes the limit.

Drives hand over file bodies as iterables of byte blocks (`response.iter_content(...)`,
`httpx`'s `iter_bytes()`, a WebDAV client's stream). Only one block is held at a time,
so a 2 GB file costs one block of memory and DOCUMENT_MAX_BYTES of disk at most, and the
transfer is abandoned (the iterator closed) the moment the limit is passed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from connectors.documents.extract import Limits, too_large
from connectors.documents.results import Skipped


def stream_to_file(
    chunks: Iterable[bytes], dest: str | Path, *, max_bytes: int | None = None
) -> int | Skipped:
    """Writes `chunks` to `dest` and returns the bytes written, or `too_large` (with the
    partial file removed) once more than `max_bytes` (default DOCUMENT_MAX_BYTES) came."""
    limit = max_bytes if max_bytes is not None else Limits.from_settings().max_bytes
    dest = Path(dest)
    written = 0
    iterator = iter(chunks)
    try:
        with dest.open("wb") as out:
            for block in iterator:
                written += len(block)
                if written > limit:
                    break
                out.write(block)
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            close()  # release the connection behind a generator or a response
    if written > limit:
        dest.unlink(missing_ok=True)
        return too_large(None, limit)
    return written


@contextlib.contextmanager
def temporary_download(
    chunks: Iterable[bytes],
    *,
    suffix: str = "",
    max_bytes: int | None = None,
    declared_size: int | None = None,
) -> Iterator[Path | Skipped]:
    """A temporary file holding the download (removed on leaving the block), or
    `too_large`. `declared_size`, the size the drive reported, refuses a file over the
    limit before a byte is read.

        with temporary_download(response.iter_content(65536), suffix=".pdf") as got:
            result = got if isinstance(got, Skipped) else extract_text(got, filename=name)
    """
    limit = max_bytes if max_bytes is not None else Limits.from_settings().max_bytes
    if declared_size is not None and declared_size > limit:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
        yield too_large(declared_size, limit)
        return
    handle, name = tempfile.mkstemp(prefix="document-", suffix=suffix[-16:])
    os.close(handle)
    path = Path(name)
    try:
        written = stream_to_file(chunks, path, max_bytes=limit)
        yield written if isinstance(written, Skipped) else path
    finally:
        path.unlink(missing_ok=True)
