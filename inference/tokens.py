"""Cheap, deterministic token-count ESTIMATES (no tokenizer download, no model).

Good enough for budgeting context windows and for usage figures when a server does
not report them; never use it where an exact count matters. Rule of thumb used:
about 4 characters per token for Latin-script text and 1 token per CJK character
(Chinese, Japanese kana, Korean syllables), rounded up, never 0 for non-empty text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

CHARS_PER_TOKEN = 4
MESSAGE_OVERHEAD_TOKENS = 4  # role marker and separators added by chat templates
REPLY_PRIMING_TOKENS = 2  # the "assistant" header the template appends for the reply

# (first, last) code points counted as one token each.
_CJK_RANGES = (
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK Extension A
    (0x4E00, 0x9FFF),  # CJK Unified Ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xF900, 0xFAFF),  # CJK Compatibility Ideographs
    (0x20000, 0x2FA1F),  # CJK Extensions B to F and supplements
)


# One character class over the ranges: counting runs in C, not a Python loop per
# character (prompt building estimates every line it packs).
_CJK = re.compile("[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in _CJK_RANGES) + "]")


def estimate_tokens(text: str) -> int:
    """Estimated token count of text (an estimate, not a tokenizer result)."""
    if not text:
        return 0
    cjk = len(_CJK.findall(text)) if not text.isascii() else 0
    other = len(text) - cjk
    return max(1, cjk + math.ceil(other / CHARS_PER_TOKEN))


def _content_text(content: Any) -> str:
    """Text of an OpenAI message content: a string or a list of typed parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, Iterable):
        parts = []
        for part in content:
            if isinstance(part, Mapping) and isinstance(part.get("text"), str):
                parts.append(part["text"])
            elif isinstance(part, str):
                parts.append(part)
        return "\n".join(parts)
    return str(content)


def estimate_message_tokens(messages: Iterable[Mapping[str, Any]]) -> int:
    """Estimated prompt size of chat messages, including per-message template overhead."""
    total = 0
    count = 0
    for message in messages:
        count += 1
        total += MESSAGE_OVERHEAD_TOKENS + estimate_tokens(_content_text(message.get("content")))
    return total + (REPLY_PRIMING_TOKENS if count else 0)
