"""Plain text, markdown and CSV, read in the calling process.

These parsers are linear in their input and read at most what the text limit can keep
(4 bytes per character, the most any supported encoding uses), so a 50 MB log costs
DOCUMENT_MAX_TEXT_CHARS, not the whole file. Markdown headings are found with a
line scanner (ATX "# " and setext underlines, ignoring fenced code), which is all the
chunker needs and much cheaper than a full markdown parse of a large file.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from connectors.documents.decode import decode_bytes
from connectors.documents.results import (
    Extracted,
    Heading,
    Skipped,
    SkipReason,
    TextBuilder,
    clean,
    finish,
)

_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r" {0,3}(```|~~~)")
_LIST_OR_QUOTE = re.compile(r" {0,3}([-*+>]|\d+[.)])(\s|$)")


def read_text(path: Path, max_chars: int) -> tuple[str, bool]:
    """The decoded, cleaned start of the file that can hold `max_chars` characters, and
    whether the file went on beyond what was read."""
    limit = max_chars * 4 + 4
    with path.open("rb") as stream:
        data = stream.read(limit + 1)
    more = len(data) > limit
    text = decode_bytes(data[:limit])
    if more:
        text = text.rstrip("\ufffd")  # a character cut by the read limit
    return clean(text), more


def extract_plain(path: Path, *, max_chars: int) -> Extracted | Skipped:
    text, more = read_text(path, max_chars)
    return finish(text, kind="text", max_chars=max_chars, truncated=more)


def markdown_headings(text: str) -> tuple[Heading, ...]:
    headings: list[Heading] = []
    fence: str | None = None
    offset = 0
    previous: tuple[int, str] | None = None  # a one-line paragraph a setext line may underline
    in_paragraph = False
    for line in text.split("\n"):
        end = offset + len(line)
        fenced = _FENCE.match(line)
        if fence is not None:
            if fenced and fenced.group(1) == fence:
                fence = None
        elif fenced:
            fence = fenced.group(1)
            previous, in_paragraph = None, False
        elif atx := _ATX.match(line):
            title = (atx.group(2) or "").strip()
            if title:
                headings.append(Heading(len(atx.group(1)), title, offset, end))
            previous, in_paragraph = None, False
        elif setext := _SETEXT.match(line):
            if previous is not None:
                level = 1 if setext.group(1)[0] == "=" else 2
                headings.append(Heading(level, previous[1].strip(), previous[0], end))
            previous, in_paragraph = None, False  # else a thematic break
        elif not line.strip():
            previous, in_paragraph = None, False
        else:
            plain = not _LIST_OR_QUOTE.match(line) and not line.startswith("    ")
            previous = (offset, line) if plain and not in_paragraph else None
            in_paragraph = True
        offset = end + 1
    return tuple(headings)


def extract_markdown(path: Path, *, max_chars: int) -> Extracted | Skipped:
    text, more = read_text(path, max_chars)
    result = finish(text, kind="markdown", max_chars=max_chars, truncated=more)
    if isinstance(result, Skipped):
        return result
    return Extracted(
        text=result.text,
        kind=result.kind,
        headings=markdown_headings(result.text),
        truncated=result.truncated,
        notes=result.notes,
    )


def _dialect(sample: str, tab_separated: bool) -> type[csv.Dialect] | csv.Dialect:
    if tab_separated:
        return csv.excel_tab
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        return csv.excel


def _has_header(sample: str) -> bool:
    try:
        return csv.Sniffer().has_header(sample)
    except csv.Error:
        return False


def extract_csv(path: Path, *, max_chars: int, filename: str) -> Extracted | Skipped:
    """One line per row. With a header row, each value is labelled with its column
    ("Name: Ada; City: London") so a row read alone still makes sense."""
    text, more = read_text(path, max_chars)
    sample = text[:16384]
    dialect = _dialect(sample, filename.lower().endswith(".tsv"))
    header: list[str] | None = None
    builder = TextBuilder("csv", max_chars)
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text), dialect)):
            cells = [" ".join(cell.split()) for cell in row]
            if number == 0 and _has_header(sample):
                header = cells
                continue
            if header:
                pairs = [
                    f"{header[i] if i < len(header) and header[i] else f'Column {i + 1}'}: {v}"
                    for i, v in enumerate(cells)
                    if v
                ]
                builder.paragraph("; ".join(pairs))
            else:
                builder.paragraph(" | ".join(cell for cell in cells if cell))
            if builder.full:
                break
    except csv.Error as error:
        return Skipped(
            SkipReason.CORRUPT,
            f"This CSV file could not be read ({error}). Check that it is plain CSV, "
            "save it again and re-add it.",
        )
    result = builder.build()
    if more and isinstance(result, Extracted) and not result.truncated:
        return Extracted(
            text=result.text,
            kind=result.kind,
            truncated=True,
            notes=(
                f"Only the start of this file was read (DOCUMENT_MAX_TEXT_CHARS={max_chars:,}).",
            ),
        )
    return result
