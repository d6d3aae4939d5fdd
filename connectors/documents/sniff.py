"""Which format a file really is, from its first bytes first and its name second.

A drive's file name and MIME type are claims; the bytes are the truth. Magic numbers
decide for PDF, zip-based office files (by the members inside the zip) and the old OLE
container (where password-protected Office files live); a file with none of them is read
as text only when its bytes look like text and its name or MIME type says a text format.
"""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePath

from connectors.documents.decode import bom_encoding, utf16_without_bom
from connectors.documents.results import Skipped, SkipReason

HEAD_BYTES = 8192
PDF, DOCX, ODT = "pdf", "docx", "odt"
TEXT, MARKDOWN, HTML, CSV = "text", "markdown", "html", "csv"
BINARY_KINDS = (PDF, DOCX, ODT)

_TEXT_SUFFIXES = {
    ".txt": TEXT, ".text": TEXT, ".log": TEXT, ".rst": TEXT, ".org": TEXT, ".adoc": TEXT,
    ".md": MARKDOWN, ".markdown": MARKDOWN, ".mdown": MARKDOWN,
    ".html": HTML, ".htm": HTML, ".xhtml": HTML,
    ".csv": CSV, ".tsv": CSV,
}  # fmt: skip
_TEXT_MIMES = {
    "text/plain": TEXT, "text/markdown": MARKDOWN, "text/x-markdown": MARKDOWN,
    "text/html": HTML, "application/xhtml+xml": HTML,
    "text/csv": CSV, "text/tab-separated-values": CSV,
}  # fmt: skip
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_ODF_TEXT = b"application/vnd.oasis.opendocument.text"
_IMAGES = {
    b"\x89PNG\r\n\x1a\n": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF87a": "a GIF image",
    b"GIF89a": "a GIF image",
    b"%!PS": "a PostScript file",
    b"\x1f\x8b": "a gzip archive",
    b"7z\xbc\xaf\x27\x1c": "a 7-Zip archive",
    b"Rar!": "a RAR archive",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
}
SUPPORTED = "txt, md, html, csv, pdf, docx and odt"


def _unsupported(what: str) -> Skipped:
    return Skipped(
        SkipReason.UNSUPPORTED_TYPE,
        f"This file is {what}; only {SUPPORTED} files are read. Save it in one of those "
        "formats to have it searched.",
    )


def _corrupt(claimed: str) -> Skipped:
    return Skipped(
        SkipReason.CORRUPT,
        f"This file is named or typed as {claimed} but is not a readable {claimed} file "
        "(damaged or only partly uploaded). Open it, save it again and re-add it.",
    )


def _named_kind(filename: str, mime_type: str | None) -> str | None:
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".pdf", ".docx", ".odt"):
        return suffix[1:]
    if suffix in _TEXT_SUFFIXES:
        return _TEXT_SUFFIXES[suffix]
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime == "application/pdf":
        return PDF
    if mime == "application/vnd.openxmlformats-officedocument.wordprocessingml.document":
        return DOCX
    if mime == "application/vnd.oasis.opendocument.text":
        return ODT
    if mime in _TEXT_MIMES:
        return _TEXT_MIMES[mime]
    if mime.startswith("text/") or (not suffix and not mime):
        return TEXT
    return None


def _zip_kind(path: Path, named: str | None) -> str | Skipped:
    """docx or odt by what the zip holds (its central directory only: nothing is
    decompressed here except the tiny `mimetype` member)."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "mimetype" in names and archive.getinfo("mimetype").file_size < 200:
                mimetype = archive.read("mimetype").strip()
                if mimetype == _ODF_TEXT:
                    return ODT
                if mimetype.startswith(b"application/vnd.oasis.opendocument"):
                    return _unsupported("an OpenDocument spreadsheet or presentation")
            if "[Content_Types].xml" in names:
                if "word/document.xml" in names:
                    return DOCX
                return _unsupported("an Office spreadsheet or presentation")
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, EOFError):
        return _corrupt(named) if named in (DOCX, ODT) else _unsupported("a damaged zip archive")
    if named in (DOCX, ODT):
        return _corrupt(named)
    return _unsupported("a zip archive")


def _ole_kind(path: Path) -> Skipped:
    """The old compound-file container: a password-protected docx (its encrypted
    package inside), or a .doc/.xls from before 2007."""
    with path.open("rb") as stream:
        tail = b""
        while block := stream.read(1 << 20):
            if _ENCRYPTED_PACKAGE in tail + block:
                return Skipped(
                    SkipReason.ENCRYPTED,
                    "This Office document is protected with a password. Remove the "
                    "password (File > Info > Protect Document) and add it again.",
                )
            tail = block[-len(_ENCRYPTED_PACKAGE) :]
    return _unsupported("an old Office document (.doc, .xls or .ppt)")


def looks_binary(head: bytes) -> bool:
    """Many NUL or other control bytes in the first bytes: not a text file. A stray NUL
    in text is tolerated (and removed later); UTF-16/32 text, full of NULs, is
    recognised first."""
    if not head or bom_encoding(head) or utf16_without_bom(head):
        return False
    control = sum(1 for byte in head if byte < 32 and byte not in (9, 10, 12, 13, 27))
    return control > len(head) * 0.05


def detect_kind(path: Path, *, filename: str, mime_type: str | None = None) -> str | Skipped:
    """One of BINARY_KINDS or the text kinds, or why the file cannot be read."""
    with path.open("rb") as stream:
        head = stream.read(HEAD_BYTES)
    named = _named_kind(filename, mime_type)
    if head.startswith(b"%PDF-") or (named == PDF and b"%PDF-" in head[:1024]):
        return PDF  # readers accept junk before the header; text that mentions it is text
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_kind(path, named)
    if head.startswith(_OLE):
        return _ole_kind(path)
    for magic, what in _IMAGES.items():
        if head.startswith(magic):
            return _unsupported(what)
    if named in BINARY_KINDS:
        return _corrupt(named)
    if looks_binary(head):
        return _unsupported("a binary file")
    if named is None:
        suffix = PurePath(filename).suffix.lower() or "without a known type"
        return _unsupported(f"a '{suffix}' file" if suffix.startswith(".") else "of no known type")
    if named == TEXT:
        start = head.lstrip()[:64].lower()
        if start.startswith((b"<!doctype html", b"<html")):
            return HTML
    return named
