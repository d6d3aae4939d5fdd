"""Separating inline <think>…</think> reasoning from the answer, incrementally.

Servers without a reasoning parser (llama.cpp, plain vLLM, most proxies) stream
DeepSeek-R1 output as one text with the chain of thought wrapped in think tags.
Chunk boundaries fall anywhere, including inside a tag ("<th" + "ink>"), so the
splitter holds back only a suffix that could still become a tag and emits the rest
right away.

Rules, chosen to be predictable rather than clever:
- "<think>" is recognised only at the very start of the output (after whitespace):
  reasoning models emit it first, and later occurrences are ordinary text.
- "</think>" is recognised once; after it everything is content, tags included.
- Whitespace right at the start, after "<think>" and after "</think>" is dropped
  (R1 emits "<think>\\n" and "</think>\\n\\n").
- starts_open=True: the text begins inside reasoning (the chat template already put
  "<think>" into the prompt); an explicit "<think>" at the start is accepted too.
- starts_open=False and a "</think>" without an opening tag: the tag is dropped and
  what follows is content; stray_close_seen tells the caller that the content
  emitted before it was really reasoning.
"""

from __future__ import annotations

from typing import NamedTuple

from .events import ContentDelta, ReasoningDelta

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"

TextDelta = ReasoningDelta | ContentDelta


class ThinkTagSplitter:
    def __init__(self, *, starts_open: bool = False) -> None:
        self.starts_open = starts_open
        self._in_reasoning = starts_open
        self._buffer = ""  # text that may still turn out to be (part of) a tag
        self._strip_leading = True
        self._at_start = True  # nothing but whitespace emitted or consumed so far
        self._open_seen = False
        self._close_seen = False
        self._stray_close = False

    @property
    def in_reasoning(self) -> bool:
        return self._in_reasoning

    @property
    def stray_close_seen(self) -> bool:
        """A "</think>" arrived without "<think>" (starts_open=False only)."""
        return self._stray_close

    @property
    def ended_in_implicit_reasoning(self) -> bool:
        """starts_open and no tag ever appeared: a non-reasoning model answered directly."""
        return self.starts_open and not self._open_seen and not self._close_seen

    def feed(self, text: str) -> list[TextDelta]:
        if not text:
            return []
        if not self._buffer and not self._strip_leading and "<" not in text:
            # No tag can start in text (the common token): the same result as _drain's.
            return [ReasoningDelta(text) if self._in_reasoning else ContentDelta(text)]
        self._buffer += text
        return self._drain(final=False)

    def finish(self) -> list[TextDelta]:
        """Flush held-back text; an unterminated think block stays reasoning."""
        return self._drain(final=True)

    # -- internals ---------------------------------------------------------------

    def _active_tags(self) -> list[str]:
        tags = []
        if self._at_start and not self._open_seen and not self._close_seen:
            tags.append(OPEN_TAG)
        if not self._close_seen:
            tags.append(CLOSE_TAG)
        return tags

    def _find_tag(self, tags: list[str]) -> tuple[int, str] | None:
        best: tuple[int, str] | None = None
        for tag in tags:
            index = self._buffer.find(tag)
            if index == -1:
                continue
            if tag == OPEN_TAG and self._buffer[:index].strip():
                continue  # real text precedes it, so it is not a leading tag
            if best is None or index < best[0]:
                best = (index, tag)
        return best

    def _held_suffix_len(self, tags: list[str]) -> int:
        """Length of the longest buffer suffix that is a proper prefix of a tag."""
        buf = self._buffer
        held = 0
        for tag in tags:
            for size in range(min(len(tag) - 1, len(buf)), held, -1):
                if buf.endswith(tag[:size]):
                    if tag == OPEN_TAG and buf[:-size].strip():
                        break
                    held = size
                    break
        return held

    def _drain(self, *, final: bool) -> list[TextDelta]:
        out: list[TextDelta] = []
        while self._buffer:
            tags = self._active_tags()
            found = self._find_tag(tags)
            if found is not None:
                index, tag = found
                self._emit(self._buffer[:index], out)
                self._buffer = self._buffer[index + len(tag) :]
                self._on_tag(tag)
                continue
            held = 0 if final else self._held_suffix_len(tags)
            cut = len(self._buffer) - held
            self._emit(self._buffer[:cut], out)
            self._buffer = self._buffer[cut:]
            break
        return out

    def _on_tag(self, tag: str) -> None:
        self._at_start = False
        self._strip_leading = True
        if tag == OPEN_TAG:
            self._open_seen = True
            self._in_reasoning = True
        else:
            if not self._in_reasoning:
                self._stray_close = True
            self._close_seen = True
            self._in_reasoning = False

    def _emit(self, text: str, out: list[TextDelta]) -> None:
        if not text:
            return
        if self._strip_leading:
            text = text.lstrip()
            if not text:
                return
            self._strip_leading = False
        self._at_start = False
        out.append(ReasoningDelta(text) if self._in_reasoning else ContentDelta(text))


class SplitText(NamedTuple):
    reasoning: str
    content: str
    implicit_reasoning: bool  # see ThinkTagSplitter.ended_in_implicit_reasoning


def split_reasoning(text: str, *, starts_open: bool = False) -> SplitText:
    """Split a complete (non-streamed) answer; same rules as ThinkTagSplitter."""
    splitter = ThinkTagSplitter(starts_open=starts_open)
    events = splitter.feed(text) + splitter.finish()
    if splitter.stray_close_seen:
        # No opening tag, so everything before the first "</think>" was reasoning.
        before, _, after = text.partition(CLOSE_TAG)
        return SplitText(before.strip(), after.strip(), False)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    return SplitText(reasoning.strip(), content.strip(), splitter.ended_in_implicit_reasoning)
