"""SseDecoder: payloads come out whole whatever the network does to the bytes."""

from __future__ import annotations

import json

import pytest

from inference.sse import SseDecoder

BODY = (
    '\ufeffdata: {"a": "é€😀"}\r\n\r\n'
    ": a comment\n\n"
    "event: ping\nid: 7\nretry: 10\n\n"
    "data: 1\ndata:2\n\n"
    "data: [DONE]\r\r"
).encode()
PAYLOADS = ['{"a": "é€😀"}'.encode(), b"1\n2", b"[DONE]"]


def decode(*pieces: bytes) -> list[bytes]:
    decoder = SseDecoder()
    out = [payload for piece in pieces for payload in decoder.feed(piece)]
    return out + decoder.flush()


def test_whole_body_in_one_piece() -> None:
    assert decode(BODY) == PAYLOADS


@pytest.mark.parametrize("split", range(len(BODY) + 1))
def test_any_split_point_gives_the_same_payloads(split: int) -> None:
    # Splits fall inside "\r\n", inside the byte-order mark and inside multi-byte
    # characters (é is 2 bytes, € 3, 😀 4): text is only decoded once a payload is whole.
    assert decode(BODY[:split], BODY[split:]) == PAYLOADS


def test_one_byte_at_a_time() -> None:
    assert decode(*(bytes([b]) for b in BODY)) == PAYLOADS
    assert json.loads(PAYLOADS[0]) == {"a": "é€😀"}


def test_events_are_dispatched_as_soon_as_their_blank_line_arrives() -> None:
    decoder = SseDecoder()
    assert decoder.feed(b'data: {"x": 1}\n') == []
    assert decoder.feed(b"\n") == [b'{"x": 1}']
    assert decoder.feed(b"data: a\n\ndata: b\n\ndata: c") == [b"a", b"b"]
    assert decoder.feed(b"\n\n") == [b"c"]


def test_end_of_body() -> None:
    # Complete data lines without the blank line are still dispatched at the end...
    assert decode(b"data: last\n") == [b"last"]
    assert decode(b"data: last\r") == [b"last"]
    # ... a line cut off mid-way is not (the server stopped mid-line).
    assert decode(b"data: whole\n\ndata: {cut") == [b"whole"]
    assert decode(b"") == []


def test_only_one_space_after_the_colon_is_dropped() -> None:
    assert decode(b"data:  two\n\ndata:none\n\ndata:\n\n") == [b" two", b"none", b""]


def test_bom_only_at_the_start() -> None:
    assert decode(b"\xef\xbb", b"\xbfdata: x\n\n") == [b"x"]
    assert decode(b"data: \xef\xbb\xbf\n\n") == [b"\xef\xbb\xbf"]
