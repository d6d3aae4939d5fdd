"""The stable tag of a memory: the one place that writes and reads its format.

`m:42` is the tag itself: what a context row stores and what the prompt's fence puts
in brackets. `[m:42]` is the same tag cited in text: the fenced line of the prompt, the
memory page, revision reasons ("superseded by [m:42]"). Both come from here, and
`memory_tag_id` reads either back.
"""

from __future__ import annotations

import re

from inference.fencing import fence_cite

TAG_PREFIX = "m"
_PARSE = re.compile(rf"(\[)?{TAG_PREFIX}:([1-9][0-9]*)(?(1)\])")


def memory_tag(pk: int) -> str:
    """The tag of memory `pk`, e.g. "m:42"."""
    return f"{TAG_PREFIX}:{int(pk)}"


def memory_citation(pk: int) -> str:
    """How text cites memory `pk`, e.g. "[m:42]" (the fence's bracketed form)."""
    return fence_cite(memory_tag(pk))


def memory_tag_id(text: str) -> int | None:
    """The memory id in a tag or citation ("m:42" or "[m:42]"); None if it is neither."""
    match = _PARSE.fullmatch(text.strip()) if isinstance(text, str) else None
    return int(match.group(2)) if match else None
