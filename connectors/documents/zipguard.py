"""Refuses zip bombs disguised as docx/odt before any parser opens them.

Two checks. First what the zip declares: how many members, their total unpacked size
(DOCUMENT_MAX_UNZIPPED_BYTES) and each large member's compression ratio (Apache POI's
ZipSecureFile refuses beyond 100:1; real office XML stays far below). Then what it really
holds: every member is inflated here, in bounded blocks and never past its declared
size plus one byte, so a header that lies about the size is caught without ever holding
more than 64 KB. Only stored and deflated members are accepted (all office files use them).
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from pathlib import Path

from connectors.documents.results import Skipped, SkipReason

MAX_MEMBERS = 10_000
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024  # small members may compress well: only big ones count
BLOCK = 64 * 1024


def _bomb(detail: str) -> Skipped:
    return Skipped(
        SkipReason.ARCHIVE_BOMB,
        f"This file was refused as a possible zip bomb: {detail}. If it is a real "
        "document, open it and save it again (or as PDF), then add it again.",
    )


def _corrupt(detail: str) -> Skipped:
    return Skipped(
        SkipReason.CORRUPT,
        f"This document's zip container is damaged ({detail}). Open it, save it again "
        "and re-add it.",
    )


def _inflated_size(stream, info: zipfile.ZipInfo) -> int:
    """Bytes the member really unpacks to, counting no further than file_size + 1."""
    stream.seek(info.header_offset)
    header = stream.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"no local header for {info.filename!r}")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    stream.seek(info.header_offset + 30 + name_length + extra_length)
    if info.compress_type == zipfile.ZIP_STORED:
        return info.compress_size
    if info.compress_type != zipfile.ZIP_DEFLATED:
        raise zipfile.BadZipFile(f"unusual compression for {info.filename!r}")
    cap = info.file_size + 1
    inflater = zlib.decompressobj(-15)
    left, produced = info.compress_size, 0
    while left > 0 and produced < cap:
        block = stream.read(min(left, BLOCK))
        if not block:
            break
        left -= len(block)
        produced += len(inflater.decompress(block, cap - produced))
        while inflater.unconsumed_tail and produced < cap:
            produced += len(inflater.decompress(inflater.unconsumed_tail, cap - produced))
    return produced


def check_zip(path: Path, *, max_unzipped_bytes: int) -> Skipped | None:
    """None when the zip is safe to hand to a parser, else why it is refused."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            if len(infos) > MAX_MEMBERS:
                return _bomb(f"it holds {len(infos):,} files")
            declared = sum(info.file_size for info in infos)
            if declared > max_unzipped_bytes:
                return _bomb(
                    f"it unpacks to {declared / 2**20:,.0f} MB, more than the "
                    f"{max_unzipped_bytes / 2**20:,.0f} MB allowed"
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > RATIO_FROM_BYTES and ratio > MAX_RATIO:
                    return _bomb(f"{info.filename} is compressed {ratio:,.0f} to 1")
                if info.flag_bits & 0x1:
                    return Skipped(
                        SkipReason.ENCRYPTED,
                        "This document's contents are encrypted. Remove the password and "
                        "add it again.",
                    )
            with path.open("rb") as stream:
                for info in infos:
                    size = _inflated_size(stream, info)
                    if size > info.file_size:
                        return _bomb(f"{info.filename} unpacks to more than its header says")
    except (zipfile.BadZipFile, zlib.error, OSError, ValueError, EOFError) as error:
        return _corrupt(str(error) or type(error).__name__)
    return None
