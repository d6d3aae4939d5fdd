"""Plain data handed to memory by the assistant: the messages a background run covers.

memory never reads conversations itself (layering); the assistant builds these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

ROLE_NAMES = {"user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class TranscriptMessage:
    number: int  # 1-based, as the model sees it and cites it
    message_id: int
    role: str  # "user" or "assistant"
    content: str
    created_at: datetime


@dataclass(frozen=True)
class Transcript:
    conversation_id: int
    title: str
    messages: tuple[TranscriptMessage, ...]
    truncated: bool = False  # the input cap cut the last message short

    @property
    def first(self) -> TranscriptMessage:
        return self.messages[0]

    @property
    def last(self) -> TranscriptMessage:
        return self.messages[-1]

    def by_number(self, number: int) -> TranscriptMessage | None:
        if 1 <= number <= len(self.messages):
            return self.messages[number - 1]
        return None

    def render(self) -> str:
        """Numbered lines for a prompt: "[3] User (Mon 12 May 2025 14:03): ..."."""
        lines = []
        for message in self.messages:
            if not message.content.strip():
                continue
            who = ROLE_NAMES.get(message.role, message.role)
            when = message.created_at.strftime("%a %d %b %Y %H:%M")
            lines.append(f"[{message.number}] {who} ({when}): {message.content.strip()}")
        return "\n\n".join(lines)
