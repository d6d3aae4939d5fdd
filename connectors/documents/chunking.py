"""Extracted text to chunks the embedding model can read whole, cut along the document's
structure.

Sections run from one heading to the next; a chunk never spans two sections and carries
its section's heading path ("Intro > Setup"). Inside a section, paragraphs (blank-line
separated) and sentences (or lines) are packed greedily up to TARGET_TOKENS, preferring
to end at a paragraph; small paragraphs merge, long ones split at sentence ends, a
sentence longer than a chunk splits between words, and only a single "word" longer than
a chunk (a run of CJK text, a base64 blob) is split inside, as a chunk of its own.
Consecutive chunks of one section overlap by the trailing sentences (or, failing that,
words) of the previous chunk, at most OVERLAP_TOKENS.

Spans: `Chunk.text == extracted.text[chunk.start:chunk.end]`, always; the heading lines
themselves are in no chunk's span. `Chunk.embedding_text` is what gets embedded: the
heading path (cut to HEADING_TOKENS from its end) on its own line, then the text; its
token count plus [CLS] and [SEP] is at most TARGET_TOKENS + 2, under the model's 256.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from array import array
from dataclasses import dataclass

from connectors.documents.results import Extracted
from connectors.documents.tokens import count_tokens, token_starts

TARGET_TOKENS = 200
OVERLAP_TOKENS = 30  # about 15% of a chunk
HEADING_TOKENS = 48
_PARAGRAPH_GAP = re.compile(r"\n[ \t\f\v]*\n\s*")
# Between sentences: whitespace after . ! ? … (and closing quotes/brackets), any line end,
# or right after a CJK full stop (no space follows those).
_CLOSERS = "\"')]\u201d\u2019"  # quotes and brackets that may follow a sentence's end
_CJK_STOPS = "\u3002\uff01\uff1f"  # ideographic full stop, fullwidth ! and ?
_SENTENCE_GAP = re.compile(
    rf"(?:(?<=[.!?\u2026])|(?<=[.!?\u2026][{re.escape(_CLOSERS)}]))[ \t]+"
    rf"|[ \t]*\n\s*|(?<=[{_CJK_STOPS}])(?=\S)"
)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    text: str  # == extracted.text[start:end]
    start: int
    end: int
    heading: str  # the full heading path, "" before the first heading
    embedding_text: str  # what to embed: heading context + "\n" + text
    tokens: int  # word pieces in embedding_text, [CLS]/[SEP] not included
    page: int | None = None  # PDF page (from 1) where the chunk starts


@dataclass(frozen=True)
class _Unit:
    start: int
    end: int
    tokens: int
    paragraph_end: bool = False
    alone: bool = False  # part of an over-long word: its own chunk, no overlap


def content_hash(text: str) -> str:
    """sha256 of the text (hex): the same file renamed or moved hashes the same."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _spans(text: str, start: int, end: int, gap: re.Pattern[str]) -> list[tuple[int, int]]:
    """The non-blank pieces of text[start:end] between matches of `gap`, trimmed."""
    spans: list[tuple[int, int]] = []
    position = start
    for match in [*gap.finditer(text, start, end), None]:
        stop = match.start() if match else end
        s, e = position, stop
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if s < e:
            spans.append((s, e))
        if match:
            position = match.end()
    return spans


def _sections(extracted: Extracted) -> list[tuple[int, int, str]]:
    """(start, end, heading path) of the text between headings."""
    text, sections = extracted.text, []
    stack: list[tuple[int, str]] = []
    position, path = 0, ""
    for heading in sorted(extracted.headings, key=lambda h: h.start):
        sections.append((position, heading.start, path))
        while stack and stack[-1][0] >= heading.level:
            stack.pop()
        stack.append((heading.level, heading.title))
        path = " > ".join(title for _, title in stack)
        position = heading.end
    sections.append((position, len(text), path))
    return [(s, e, p) for s, e, p in sections if s < e and text[s:e].strip()]


class _Starts:
    """Where each token of the text starts, in order: the token count of any span cut at
    whitespace is then the difference of two bisections (counts add up at whitespace, see
    tokens.py), so sentences are tokenized once and words, runs and overlaps are free."""

    def __init__(self, text: str, pieces: list[tuple[int, int, bool]]):
        relative = token_starts([text[a:b] for a, b, _ in pieces])
        self.offsets = array("q")
        for (a, _, _), starts in zip(pieces, relative, strict=True):
            self.offsets.extend(a + start for start in starts)

    def between(self, start: int, end: int) -> int:
        return bisect.bisect_left(self.offsets, end) - bisect.bisect_left(self.offsets, start)


def _split_long(text: str, start: int, end: int, limit: int, starts: _Starts) -> list[_Unit]:
    """A sentence over `limit` tokens as runs of whole words, each within `limit`."""
    units: list[_Unit] = []
    run_start, run_end, run_tokens = -1, -1, 0
    for match in _WORD.finditer(text, start, end):
        s, e = match.span()
        n = starts.between(s, e)
        if run_start >= 0 and (run_tokens + n > limit or n > limit):
            units.append(_Unit(run_start, run_end, run_tokens))
            run_start, run_tokens = -1, 0
        if n > limit:  # one word longer than a chunk: cut by characters (each <= 1 token)
            pieces = [(p, min(p + limit, e)) for p in range(s, e, limit)]
            counts = count_tokens([text[a:b] for a, b in pieces])  # cut inside: count anew
            units += [_Unit(a, b, c, alone=True) for (a, b), c in zip(pieces, counts, strict=True)]
            continue
        if run_start < 0:
            run_start = s
        run_end, run_tokens = e, run_tokens + n
    if run_start >= 0:
        units.append(_Unit(run_start, run_end, run_tokens))
    return units


def _group(units: list[_Unit], limit: int) -> list[list[_Unit]]:
    """Units packed into runs of at most `limit` tokens, ending at a paragraph when that
    keeps at least half the run."""
    groups: list[list[_Unit]] = []
    current: list[_Unit] = []
    tokens = 0
    for unit in units:
        if unit.alone:
            if current:
                groups.append(current)
            groups.append([unit])
            current, tokens = [], 0
            continue
        if current and tokens + unit.tokens > limit:
            cut, running = len(current), 0
            for index, earlier in enumerate(current):
                running += earlier.tokens
                if earlier.paragraph_end and running >= limit // 2:
                    cut = index + 1
            groups.append(current[:cut])
            current = current[cut:]
            tokens = sum(u.tokens for u in current)
            if current and tokens + unit.tokens > limit:
                groups.append(current)
                current, tokens = [], 0
        current.append(unit)
        tokens += unit.tokens
    if current:
        groups.append(current)
    return groups


def _overlap(text: str, previous: list[_Unit], limit: int, starts: _Starts) -> list[_Unit]:
    """The end of the previous run to repeat: its last sentences within `limit` tokens,
    else the last words of its last sentence."""
    if not previous or previous[-1].alone:
        return []
    taken: list[_Unit] = []
    tokens = 0
    for unit in reversed(previous):
        if tokens + unit.tokens > limit:
            break
        taken.insert(0, unit)
        tokens += unit.tokens
    if taken:
        return taken
    last = previous[-1]
    words = [match.start() for match in _WORD.finditer(text, last.start, last.end)]
    first = -1
    for word in reversed(words[1:]):
        if starts.between(word, last.end) > limit:
            break
        first = word
    return [_Unit(first, last.end, starts.between(first, last.end))] if first >= 0 else []


def _context(path: str, tokens: int) -> tuple[str, int]:
    """The heading path for embedding, cut from its start to HEADING_TOKENS, and its count."""
    if tokens <= HEADING_TOKENS:
        return path, tokens
    words = path.split()
    counts = count_tokens(words)
    kept: list[str] = []
    total = 0
    for word, n in zip(reversed(words), reversed(counts), strict=True):
        if total + n > HEADING_TOKENS:
            break
        kept.insert(0, word)
        total += n
    if not kept:  # one enormous word
        clipped = words[-1][-HEADING_TOKENS:]
        return clipped, count_tokens([clipped])[0]
    return " ".join(kept), total


def _page(pages: tuple[int, ...], offset: int) -> int | None:
    return max(bisect.bisect_right(pages, offset), 1) if pages else None


def chunk_text(
    extracted: Extracted,
    *,
    target_tokens: int = TARGET_TOKENS,
    overlap_tokens: int = OVERLAP_TOKENS,
) -> list[Chunk]:
    """The chunks of `extracted`, in text order; the same input always gives the same
    chunks."""
    text = extracted.text
    sections = _sections(extracted)
    pieces: list[tuple[int, int, bool]] = []  # start, end, ends a paragraph
    first_piece: list[int] = []  # per section, its first index in `pieces`
    for s, e, _ in sections:
        first_piece.append(len(pieces))
        for ps, pe in _spans(text, s, e, _PARAGRAPH_GAP):
            sentences = _spans(text, ps, pe, _SENTENCE_GAP)
            pieces += [(a, b, i == len(sentences) - 1) for i, (a, b) in enumerate(sentences)]
    first_piece.append(len(pieces))
    starts = _Starts(text, pieces)
    path_tokens = count_tokens([path for _, _, path in sections])
    chunks: list[Chunk] = []
    for number, (_, _, path) in enumerate(sections):
        context, context_tokens = _context(path, path_tokens[number])
        budget = max(target_tokens - context_tokens, 16)
        limit = max(budget - overlap_tokens, 8)
        units: list[_Unit] = []
        for a, b, paragraph_end in pieces[first_piece[number] : first_piece[number + 1]]:
            n = starts.between(a, b)
            if n <= limit:
                units.append(_Unit(a, b, n, paragraph_end))
            else:
                long = _split_long(text, a, b, limit, starts)
                last = long[-1]
                long[-1] = _Unit(last.start, last.end, last.tokens, paragraph_end, last.alone)
                units += long
        previous: list[_Unit] = []
        for group in _group(units, limit):
            lead = [] if group[0].alone else _overlap(text, previous, overlap_tokens, starts)
            members = lead + group
            start, end = members[0].start, members[-1].end
            body = text[start:end]
            chunks.append(
                Chunk(
                    text=body,
                    start=start,
                    end=end,
                    heading=path,
                    embedding_text=f"{context}\n{body}" if context else body,
                    tokens=context_tokens + sum(u.tokens for u in members),
                    page=_page(extracted.pages, start),
                )
            )
            previous = group
    return chunks
