"""What extraction returns: the text with its structure, or why a file was skipped.

Plain dataclasses with no Django, shared by the calling process and the worker process
(which sends them as JSON). A skip `reason` is a stable machine code (stored per file and
counted on the files page); its `message` tells the user what to do about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class SkipReason(StrEnum):
    TOO_LARGE = "too_large"
    UNSUPPORTED_TYPE = "unsupported_type"
    NO_TEXT = "no_text"
    ENCRYPTED = "encrypted"
    CORRUPT = "corrupt"
    TIMEOUT = "timeout"
    ARCHIVE_BOMB = "archive_bomb"


@dataclass(frozen=True)
class Skipped:
    reason: SkipReason
    message: str

    def to_json(self) -> dict[str, Any]:
        return {"skipped": True, "reason": str(self.reason), "message": self.message}


@dataclass(frozen=True)
class Heading:
    """A heading line of `Extracted.text`: text[start:end] is the whole line as written
    (e.g. "## Setup"); `title` is its words and `level` 1 (top) to 6."""

    level: int
    title: str
    start: int
    end: int


@dataclass(frozen=True)
class Extracted:
    """The text of a document, cleaned (no NUL bytes, no lone surrogates, "\\n" line
    ends), with paragraphs separated by blank lines and headings written as markdown
    "# " lines whose offsets are in `headings`. `pages` holds the offset where each PDF
    page starts. When the text was longer than DOCUMENT_MAX_TEXT_CHARS it was cut at a
    word boundary (`truncated`), and `notes` says so for the user."""

    text: str
    kind: str  # "text", "markdown", "html", "csv", "pdf", "docx" or "odt"
    headings: tuple[Heading, ...] = ()
    pages: tuple[int, ...] = ()
    truncated: bool = False
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "skipped": False,
            "text": self.text,
            "kind": self.kind,
            "headings": [[h.level, h.title, h.start, h.end] for h in self.headings],
            "pages": list(self.pages),
            "truncated": self.truncated,
            "notes": list(self.notes),
        }


def from_json(data: dict[str, Any]) -> Extracted | Skipped:
    if data.get("skipped"):
        return Skipped(SkipReason(data["reason"]), data["message"])
    return Extracted(
        text=data["text"],
        kind=data["kind"],
        headings=tuple(Heading(*row) for row in data["headings"]),
        pages=tuple(data["pages"]),
        truncated=data["truncated"],
        notes=tuple(data["notes"]),
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean(text: str) -> str:
    """Text PostgreSQL can store and the chunker can count on: NUL bytes dropped (a
    `text` column refuses them), lone surrogates (which no UTF-8 encoder accepts)
    replaced, and every line end made "\\n"."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SURROGATE.sub("\ufffd", text)


class TextBuilder:
    """Collects paragraphs and headings into one cleaned text, keeping heading offsets,
    and stops collecting at `max_chars` (so a huge document never grows past the limit
    in memory). Extractors call `paragraph`/`heading`, then `build`."""

    def __init__(self, kind: str, max_chars: int):
        self.kind = kind
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.length = 0
        self.headings: list[Heading] = []
        self.pages: list[int] = []
        self.full = False

    def _add(self, text: str, *, partial: bool = True) -> bool:
        separator = "\n\n" if self.parts else ""
        if self.length + len(separator) + len(text) > self.max_chars:
            room = self.max_chars - self.length - len(separator)
            if partial and room > 0:
                cut = text.rfind(" ", 0, room + 1)
                kept = text[: cut if cut > 0 else room].rstrip()
                if kept:
                    self.parts.append(separator + kept)
                    self.length += len(separator) + len(kept)
            self.full = True
            return False
        self.parts.append(separator + text)
        self.length += len(separator) + len(text)
        return True

    def paragraph(self, text: str) -> None:
        text = clean(text).strip()
        if text and not self.full:
            self._add(text)

    def heading(self, level: int, title: str) -> None:
        title = " ".join(clean(title).split())
        if not title or self.full:
            return
        level = min(max(level, 1), 6)
        line = "#" * level + " " + title
        start = self.length + (2 if self.parts else 0)
        if self._add(line, partial=False):
            self.headings.append(Heading(level, title, start, start + len(line)))

    def page_break(self) -> None:
        """Marks where the next page's text starts (PDF)."""
        if not self.full:
            self.pages.append(self.length + (2 if self.parts else 0))

    def build(self) -> Extracted | Skipped:
        return finish(
            "".join(self.parts),
            kind=self.kind,
            headings=tuple(self.headings),
            pages=tuple(self.pages),
            truncated=self.full,
            max_chars=self.max_chars,
        )


def truncation_note(max_chars: int) -> str:
    return (
        f"Only the first {max_chars:,} characters of this document were kept "
        "(DOCUMENT_MAX_TEXT_CHARS); split it into smaller files to search all of it."
    )


def finish(
    text: str,
    *,
    kind: str,
    max_chars: int,
    headings: tuple[Heading, ...] = (),
    pages: tuple[int, ...] = (),
    truncated: bool = False,
) -> Extracted | Skipped:
    """The final check shared by every format: cut text over the limit at a word
    boundary, and turn a document without any letter or digit into `no_text`."""
    if len(text) > max_chars:
        cut = text.rfind(" ", 0, max_chars + 1)
        text = text[: cut if cut > 0 else max_chars].rstrip()
        truncated = True
    if not any(ch.isalnum() for ch in text):
        return Skipped(
            SkipReason.NO_TEXT,
            "This file has no text to search. If it is a scan or a photo of text, run it "
            "through OCR (e.g. ocrmypdf) and add it again.",
        )
    return Extracted(
        text=text,
        kind=kind,
        headings=tuple(h for h in headings if h.end <= len(text)),
        pages=tuple(p for p in pages if p < len(text)),
        truncated=truncated,
        notes=(truncation_note(max_chars),) if truncated else (),
    )
