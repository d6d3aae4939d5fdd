"""Bytes of a text file to str, never failing on bad input.

Files on a drive come in any encoding and are sometimes damaged. The order: a byte-order
mark decides (UTF-8/16/32); else strict UTF-8 (most files today); else UTF-16 without a
mark when every other byte is NUL; else UTF-8 when most non-ASCII bytes are valid UTF-8
(a damaged UTF-8 file); else charset-normalizer's guess from a sample (cp1252 on a tie).
Bytes that do not decode become U+FFFD. NUL bytes are removed later, by
`results.clean`.
"""

from __future__ import annotations

import codecs

_BOMS = (  # UTF-32 first: its little-endian mark starts with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
SAMPLE_BYTES = 64 * 1024


def bom_encoding(data: bytes) -> tuple[str, int] | None:
    """(encoding, length of the mark) when `data` starts with a byte-order mark."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the sample looks like mostly-ASCII UTF-16 text: NUL in
    nearly every odd (or even) byte and hardly ever in the others."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / len(odd)
    if odd_nul > 0.9 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.9 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _mostly_utf8(sample: bytes) -> bool:
    """UTF-8 with a few damaged bytes (more characters decode as UTF-8 than fail): such
    a file is UTF-8, and guessing a legacy code page would garble all of it."""
    text = sample.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    good = sum(1 for ch in text if ch > "\x7f") - bad
    return good >= bad


def _legacy_encoding(sample: bytes) -> str:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency, but never worth a crash
        return "utf-8"
    results = from_bytes(sample)
    best = results.best()
    if best is None:
        return "utf-8"
    for match in results:  # a tie goes to the commonest Western code page
        if match.encoding == "cp1252" and match.chaos <= best.chaos:
            return "cp1252"
    return best.encoding


def guess_encoding(data: bytes) -> str:
    """The encoding to decode `data` with (BOM excluded, see `decode_bytes`)."""
    found = bom_encoding(data)
    if found:
        return found[0]
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:SAMPLE_BYTES]
    utf16 = utf16_without_bom(sample)
    if utf16:
        return utf16
    if _mostly_utf8(sample):
        return "utf-8"
    return _legacy_encoding(sample)


def decode_bytes(data: bytes, *, encoding: str | None = None) -> str:
    """`data` as text: undecodable bytes become U+FFFD, never an exception. `encoding`,
    when given (e.g. an HTML meta charset), is used unless a byte-order mark overrides
    it or Python does not know it."""
    found = bom_encoding(data)
    if found:
        encoding, skip = found
        data = data[skip:]
    elif encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            encoding = None
    if not encoding:
        encoding = guess_encoding(data)
    return data.decode(encoding, errors="replace")
