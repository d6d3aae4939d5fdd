"""HTML to text: the words a reader sees, with headings, lists and table rows kept.

Parsed with lxml's HTML parser (libxml2: forgiving, fast, no network or entity
expansion) inside the worker process, since a large or hostile page can cost a lot of
memory. Scripts, styles and other invisible parts are dropped; the tree is walked with
`iterwalk`, not recursion, so deep nesting cannot exhaust the stack.
"""

from __future__ import annotations

import re
from pathlib import Path

import lxml.html  # type: ignore[import-untyped]
from lxml import etree

from connectors.documents.decode import decode_bytes
from connectors.documents.results import Extracted, Skipped, SkipReason, TextBuilder

_INVISIBLE = (
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object",
    "embed", "canvas", "select", "button",
)  # fmt: skip
_BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog",
    "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header", "hr",
    "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "ul",
}  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]+)", re.IGNORECASE)


class _Walker:
    def __init__(self, builder: TextBuilder):
        self.builder = builder
        self.buffer: list[str] = []
        self.heading: int | None = None  # level while inside a heading
        self.pre = 0  # depth inside <pre>
        self.cells = 0  # cells seen in the current table row

    def flush(self) -> None:
        if self.heading is not None:
            return
        text = "".join(self.buffer)
        self.buffer = []
        if not self.pre:
            text = "\n".join(" ".join(line.split()) for line in text.split("\n"))
        self.builder.paragraph(text)

    def start(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in _HEADINGS:
            self.flush()
            self.heading = _HEADINGS[tag]
        elif tag in _BLOCKS:
            if tag in ("td", "th"):
                if self.cells:
                    self.buffer.append(" | ")
                self.cells += 1
            else:
                self.flush()
                if tag == "tr":
                    self.cells = 0
                elif tag == "li":
                    self.buffer.append("- ")
                elif tag == "pre":
                    self.pre += 1
        elif tag == "br":
            self.buffer.append("\n")
        if element.text:
            self.buffer.append(element.text)

    def end(self, element: etree._Element) -> None:
        tag = element.tag
        if tag in _HEADINGS and self.heading is not None:
            level, self.heading = self.heading, None
            self.builder.heading(level, "".join(self.buffer))
            self.buffer = []
        elif tag in _BLOCKS and tag not in ("td", "th"):
            self.flush()
            if tag == "pre":
                self.pre = max(self.pre - 1, 0)
        if element.tail:
            self.buffer.append(element.tail)


def extract_html(path: Path, *, max_chars: int, max_bytes: int) -> Extracted | Skipped:
    data = path.read_bytes()[:max_bytes]
    declared = _META_CHARSET.search(data[:4096])
    text = decode_bytes(data, encoding=declared.group(1).decode("ascii") if declared else None)
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError) as error:
        return Skipped(
            SkipReason.CORRUPT,
            f"This HTML file could not be read ({error}). Save it again and re-add it.",
        )
    for element in root.xpath("|".join(f"//{tag}" for tag in _INVISIBLE)):
        element.drop_tree()  # keeps the text that follows it (its tail)
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    builder = TextBuilder("html", max_chars)
    walker = _Walker(builder)
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "start":
            walker.start(element)
        else:
            walker.end(element)
        if builder.full:
            break
    walker.heading = None
    walker.flush()
    return builder.build()
