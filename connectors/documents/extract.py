"""A downloaded file to text: `extract_text(path, filename=..., mime_type=...)`.

Returns `Extracted` (text plus headings and page offsets for the chunker) or `Skipped`
(a stable reason code and a message telling the user what to do). Never raises for a
bad file; a missing path or a worker that cannot start at all are bugs and do raise.

Order: the size limit first (DOCUMENT_MAX_BYTES, from the file on disk), then the real
type from the bytes (`sniff.detect_kind`), then the extractor. Plain text, markdown and
CSV are read here (linear parsers, reading no more than the text limit can keep); PDF,
docx, odt and HTML go to the worker process under DOCUMENT_EXTRACT_TIMEOUT_S.

Text over DOCUMENT_MAX_TEXT_CHARS is cut at a word boundary, not skipped: the start of a
long document is still worth searching. `Extracted.truncated` and `notes` say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.template.defaultfilters import filesizeformat

from connectors.documents import sniff
from connectors.documents.plain import extract_csv, extract_markdown, extract_plain
from connectors.documents.results import Extracted, Skipped, SkipReason
from connectors.documents.runner import run_in_worker


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_text_chars: int
    timeout_s: float
    max_unzipped_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        from django.conf import settings

        return cls(
            max_bytes=settings.DOCUMENT_MAX_BYTES,
            max_text_chars=settings.DOCUMENT_MAX_TEXT_CHARS,
            timeout_s=settings.DOCUMENT_EXTRACT_TIMEOUT_S,
            max_unzipped_bytes=settings.DOCUMENT_MAX_UNZIPPED_BYTES,
        )


def _megabytes(size: int) -> str:
    """97.7 KB, 50.0 MB: the unit that tells a file just over the limit from the limit."""
    return str(filesizeformat(size)).replace("\xa0", " ")


def too_large(size: int | None, max_bytes: int) -> Skipped:
    """The `too_large` skip; `size` None when the download was stopped at the limit."""
    what = f"is {_megabytes(size)}" if size is not None else "is larger than that"
    return Skipped(
        SkipReason.TOO_LARGE,
        f"Files up to {_megabytes(max_bytes)} are read (DOCUMENT_MAX_BYTES); this one {what}. "
        "Split it into smaller files, or ask your administrator to raise the limit.",
    )


def check_size(size: int | None, limits: Limits | None = None) -> Skipped | None:
    """`too_large` for a size a drive reports before downloading, else None."""
    limits = limits or Limits.from_settings()
    if size is not None and size > limits.max_bytes:
        return too_large(size, limits.max_bytes)
    return None


def extract_text(
    path: str | Path,
    *,
    filename: str,
    mime_type: str | None = None,
    limits: Limits | None = None,
) -> Extracted | Skipped:
    """The text of the file at `path`; `filename` and `mime_type` are what the drive
    says (used for the type only where the bytes leave it open)."""
    limits = limits or Limits.from_settings()
    path = Path(path)
    size = path.stat().st_size
    if size > limits.max_bytes:
        return too_large(size, limits.max_bytes)
    if size == 0:
        return Skipped(SkipReason.NO_TEXT, "This file is empty. Add it again once it has text.")
    kind = sniff.detect_kind(path, filename=filename, mime_type=mime_type)
    if isinstance(kind, Skipped):
        return kind
    chars = limits.max_text_chars
    if kind == sniff.TEXT:
        return extract_plain(path, max_chars=chars)
    if kind == sniff.MARKDOWN:
        return extract_markdown(path, max_chars=chars)
    if kind == sniff.CSV:
        return extract_csv(path, max_chars=chars, filename=filename)
    request = {
        "kind": kind,
        "path": str(path.resolve()),
        "max_chars": chars,
        "max_bytes": limits.max_bytes,
        "max_unzipped_bytes": limits.max_unzipped_bytes,
    }
    return run_in_worker(request, timeout_s=limits.timeout_s)
