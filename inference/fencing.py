"""Fencing untrusted text for a prompt: memories, summaries, calendar events, documents.

Every block of stored text that enters a prompt goes through `fence()`, so that no
stored text can end its block, open another one, or fake a line of its own:

    <memory>
    [m:42] {"kind": "fact", "text": "Olivia is allergic to peanuts."}
    [m:7] {"kind": "plan", "date": "2024-05-01", "text": "Trip to Porto"}
    </memory>

Each item is exactly one line: its tag (written by us, never by the stored text), then
one JSON object holding the metadata and the text. The JSON is encoded so that it
cannot contain a line break of any kind (JSON escapes control characters; U+0085,
U+2028 and U+2029 are escaped here too), `<`, `>` and `&` (escaped as `\\u003c`,
`\\u003e`, `\\u0026`, so `</memory>` cannot appear), or an opening bracket that starts
a tag such as `[m:3]` (escaped as `\\u005b`). `json.loads` of the part after the tag
gives back the exact text and metadata.

The instruction that says the block is data stays with the caller, above the block;
`FENCE_FORMAT_NOTE` is a sentence it can add to say how the lines are written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

FENCE_FORMAT_NOTE = (
    "Each line inside the block is one item: its tag, then a JSON object with the item's "
    "details and its text."
)

_LABEL = re.compile(r"[a-z][a-z0-9_-]{0,31}")
_TAG = re.compile(r"[a-z][a-z0-9_-]{0,15}:[A-Za-z0-9_.-]{1,64}")
# A bracket followed by what looks like a tag ("[m:", "[event:"), in any case.
_TAG_OPENING = re.compile(r"\[(?=\s*[A-Za-z][A-Za-z0-9_-]*\s*:)")
# Characters JSON leaves alone that some readers (str.splitlines, tokenizers) treat as
# a line break, plus the markup characters of the fence itself.
_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u0085": "\\u0085",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_ESCAPE_RE = re.compile("[" + "".join(re.escape(char) for char in _ESCAPES) + "]")

FenceItem = tuple[str, str, Mapping[str, Any] | None]


def _encode(value: Any) -> str:
    raw = json.dumps(value, ensure_ascii=False, separators=(", ", ": "), default=str)
    raw = _ESCAPE_RE.sub(lambda match: _ESCAPES[match.group()], raw)
    return _TAG_OPENING.sub("\\\\u005b", raw)


def fence_escape(text: str) -> str:
    """How `text` appears inside a fenced line (the JSON string, without its quotes).

    For finding and erasing a stored text in a prompt that was already sent."""
    return _encode(text)[1:-1]


def fence_cite(tag: str) -> str:
    """A tag as it is written in a fenced line and cited in text: `m:42` -> `[m:42]`."""
    return f"[{tag}]"


def fence_line(tag: str, text: str, metadata: Mapping[str, Any] | None = None) -> str:
    """One fenced item: `[tag] {...metadata, "text": text}` on a single line."""
    if not _TAG.fullmatch(tag):
        raise ValueError(f"Not a fence tag: {tag!r} (expected e.g. 'm:42').")
    payload = {key: value for key, value in (metadata or {}).items() if key != "text"}
    payload["text"] = text
    return f"{fence_cite(tag)} {_encode(payload)}"


def fence(label: str, items: Iterable[FenceItem]) -> str:
    """The block `<label>` … `</label>` with one `fence_line` per (tag, text, metadata).

    Returns "" when there are no items."""
    return fence_wrap(label, [fence_line(tag, text, metadata) for tag, text, metadata in items])


def fence_wrap(label: str, lines: Iterable[str]) -> str:
    """Wrap lines already made by `fence_line` (after packing them under a budget)."""
    lines = list(lines)
    if not _LABEL.fullmatch(label):
        raise ValueError(f"Not a fence label: {label!r} (lowercase letters, e.g. 'memory').")
    if not lines:
        return ""
    return f"<{label}>\n" + "\n".join(lines) + f"\n</{label}>"


def fence_overhead(label: str) -> str:
    """The text `fence` adds around its lines (for budgeting before packing)."""
    return f"<{label}>\n\n</{label}>"
