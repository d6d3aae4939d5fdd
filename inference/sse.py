"""A cheap incremental reader for server-sent events (the `data:` payloads only).

The model server's body arrives in network-sized pieces that split anywhere: inside a
line, between "\\r" and "\\n", inside a multi-byte UTF-8 character. Lines are split as
bytes (a "\\n" byte never occurs inside a UTF-8 character), so text is only decoded
once a payload is complete, by json.loads itself. That skips the per-line text
decoding and line objects of httpx's and the SDK's iterators (see
tests/inference/bench_sse.py for the measured difference).

Rules (the SSE spec, trimmed to what a chat stream needs):
- lines end in "\\n", "\\r\\n" or "\\r"; a leading UTF-8 byte-order mark is dropped;
- "data:" lines are collected (one space after the colon dropped) and joined with
  "\\n"; a blank line dispatches them as one payload;
- comments (":" lines), "event:", "id:", "retry:" and unknown fields are ignored;
- at the end of the body, data lines that were complete but never dispatched are
  dispatched; an unterminated last line is dropped (the server was cut off mid-line).

A lone "\\r" at the very end of a piece is held back until the next piece shows
whether a "\\n" follows, so a "\\r\\n" split across pieces is one line end, not two.
"""

from __future__ import annotations

from collections.abc import Iterable

_BOM = b"\xef\xbb\xbf"


class SseDecoder:
    """feed() raw body bytes, get back the complete `data` payloads (as bytes)."""

    __slots__ = ("_data", "_started", "_tail")

    def __init__(self) -> None:
        self._tail = b""  # bytes after the last line end
        self._data: bytes | None = None  # data lines of the event being read
        self._started = False

    def feed(self, piece: bytes) -> list[bytes]:
        if self._tail:
            piece = self._tail + piece
        if not self._started:
            if len(piece) < 3 and _BOM.startswith(piece):
                self._tail = piece  # maybe the start of a byte-order mark: decide later
                return []
            if piece.startswith(_BOM):
                piece = piece[3:]
            self._started = True
        held_cr = False
        if b"\r" in piece:
            held_cr = piece.endswith(b"\r")  # maybe the first half of "\r\n"
            if held_cr:
                piece = piece[:-1]
            piece = piece.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        lines = piece.split(b"\n")
        self._tail = lines.pop() + b"\r" if held_cr else lines.pop()
        if len(lines) == 2 and not lines[1] and lines[0][:5] == b"data:" and self._data is None:
            # The common case: one whole `data: {...}\n\n` event per piece.
            value = lines[0][5:]
            return [value[1:] if value[:1] == b" " else value]
        return self._lines(lines)

    def flush(self) -> list[bytes]:
        """The end of the body: dispatch complete but undispatched data lines."""
        tail, self._tail = self._tail, b""
        out = self._lines([tail[:-1]]) if self._started and tail.endswith(b"\r") else []
        if self._data is not None:
            out.append(self._data)
            self._data = None
        return out

    def _lines(self, lines: Iterable[bytes]) -> list[bytes]:
        out: list[bytes] = []
        data = self._data
        for line in lines:
            if not line:
                if data is not None:
                    out.append(data)
                    data = None
            elif line[:5] == b"data:":
                value = line[5:]
                if value[:1] == b" ":
                    value = value[1:]
                data = value if data is None else data + b"\n" + value
            # else: a comment, event:/id:/retry:, or an unknown field
        self._data = data
        return out
