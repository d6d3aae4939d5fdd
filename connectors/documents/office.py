"""Word (docx) and OpenDocument (odt) text, run inside the worker process after
`zipguard.check_zip` has passed the file.

docx goes through python-docx: body paragraphs and tables in document order, heading
styles ("Title", "Heading 1".."Heading 9", and custom styles based on them) kept as
headings, each table row one line. odt is read straight from its content.xml with lxml
(odfpy is unmaintained and slow), with entity resolution, DTDs and network access off;
tracked deletions, annotations and footnotes are dropped.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph
from lxml import etree

from connectors.documents.results import Extracted, Skipped, SkipReason, TextBuilder

TITLE = -1
_HEADING_STYLE = re.compile(r"^heading\s*([1-9])$")
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_DROPPED = (
    f"{{{_TEXT}}}tracked-changes", f"{{{_TEXT}}}note", f"{{{_OFFICE}}}annotation",
    f"{{{_TEXT}}}sequence-decls", f"{{{_TEXT}}}variable-decls",
)  # fmt: skip
ODT_ENCRYPTED = Skipped(
    SkipReason.ENCRYPTED,
    "This OpenDocument file is protected with a password. Save a copy without the "
    "password (File > Properties > Security) and add that.",
)


def _corrupt(kind: str, error: Exception) -> Skipped:
    return Skipped(
        SkipReason.CORRUPT,
        f"This {kind} file could not be read ({type(error).__name__}: {error}). Open it, "
        "save it again and re-add it.",
    )


def _heading_level(paragraph: Paragraph, cache: dict[str, int]) -> int:
    """1-9 for a heading, TITLE for the title, 0 for body text; by style name,
    following `based on`."""
    style = paragraph.style
    if style is None:
        return 0
    key = style.style_id or style.name or ""
    if key not in cache:
        level, current, hops = 0, style, 0
        while current is not None and hops < 5 and not level:
            name = (current.name or "").strip().lower()
            found = _HEADING_STYLE.match(name)
            level = int(found.group(1)) if found else (TITLE if name == "title" else 0)
            current, hops = current.base_style, hops + 1
        cache[key] = level
    return cache[key]


def _row_line(row) -> str:
    cells: list[str] = []
    for cell in row.cells:  # a merged cell comes back once per grid column it spans
        text = " ".join(cell.text.split())
        if text and (not cells or cells[-1] != text):
            cells.append(text)
    return " | ".join(cells)


def extract_docx(path: Path, *, max_chars: int) -> Extracted | Skipped:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError) as error:
        return _corrupt("Word", error)
    builder = TextBuilder("docx", max_chars)
    levels: dict[str, int] = {}
    # A "Title" paragraph heads the document: Heading 1 goes under it, one level down.
    shift = int(any(_heading_level(p, levels) == TITLE for p in document.paragraphs))
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            level = _heading_level(block, levels)
            if level == TITLE:
                builder.heading(1, block.text)
            elif level:
                builder.heading(level + shift, block.text)
            else:
                builder.paragraph(block.text)
        elif isinstance(block, Table):
            for row in block.rows:
                builder.paragraph(_row_line(row))
                if builder.full:
                    break
        if builder.full:
            break
    return builder.build()


class _OdtWalker:
    """Paragraphs (text:p), headings (text:h) and table rows, from content.xml."""

    def __init__(self, builder: TextBuilder):
        self.builder = builder
        self.buffer: list[str] = []
        self.heading = 0
        self.row = 0  # depth inside table rows: cells join into one line
        self.cells = 0

    def flush(self, row: bool = False) -> None:
        text, self.buffer = "".join(self.buffer), []
        if row:
            text = " ".join(text.split())
        if self.heading:
            self.builder.heading(self.heading, text)
            self.heading = 0
        else:
            self.builder.paragraph(text)

    def start(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in (f"{{{_TEXT}}}p", f"{{{_TEXT}}}h") and not self.row:
            self.flush()
            if tag == f"{{{_TEXT}}}h":
                level = element.get(f"{{{_TEXT}}}outline-level") or "1"
                self.heading = int(level) if level.isdigit() else 1
        elif tag == f"{{{_TABLE}}}table-row":
            if not self.row:
                self.flush()
                self.cells = 0
            self.row += 1
        elif tag == f"{{{_TABLE}}}table-cell" and self.row:
            if self.cells:
                self.buffer.append(" | ")
            self.cells += 1
        elif tag == f"{{{_TEXT}}}s":
            self.buffer.append(" " * min(int(element.get(f"{{{_TEXT}}}c", "1") or 1), 100))
        elif tag == f"{{{_TEXT}}}tab":
            self.buffer.append("\t")
        elif tag == f"{{{_TEXT}}}line-break":
            self.buffer.append("\n")
        if element.text:
            self.buffer.append(element.text)

    def end(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in (f"{{{_TEXT}}}p", f"{{{_TEXT}}}h") and not self.row:
            self.flush()
        elif tag == f"{{{_TABLE}}}table-row":
            self.row -= 1
            if not self.row:
                self.flush(row=True)
        elif tag in (f"{{{_TEXT}}}p", f"{{{_TEXT}}}h"):
            self.buffer.append(" ")  # paragraphs inside one cell
        if element.tail:
            self.buffer.append(element.tail)


def extract_odt(path: Path, *, max_chars: int) -> Extracted | Skipped:
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            manifest = "META-INF/manifest.xml"
            if manifest in names and b"encryption-data" in archive.read(manifest):
                return ODT_ENCRYPTED
            content = archive.read("content.xml")
        parser = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )
        root = etree.fromstring(content, parser)
    except (zipfile.BadZipFile, KeyError, ValueError, etree.XMLSyntaxError) as error:
        return _corrupt("OpenDocument", error)
    etree.strip_elements(root, *_DROPPED, with_tail=False)
    body = root.find(f"{{{_OFFICE}}}body/{{{_OFFICE}}}text")
    builder = TextBuilder("odt", max_chars)
    if body is not None:
        walker = _OdtWalker(builder)
        for event, element in etree.iterwalk(body, events=("start", "end")):
            if event == "start":
                walker.start(element)
            else:
                walker.end(element)
            if builder.full:
                break
        walker.flush()
    return builder.build()
