"""Shared by the extraction tests: limits small enough to test, and the checks every
result must pass."""

from __future__ import annotations

from connectors.documents.extract import Limits, extract_text
from connectors.documents.results import Extracted, Skipped

LIMITS = Limits(
    max_bytes=5 * 1024 * 1024,
    max_text_chars=100_000,
    timeout_s=30.0,
    max_unzipped_bytes=256 * 1024 * 1024,
)


def extracted(path, name=None, **kwargs) -> Extracted:
    result = extract_text(path, filename=name or path.name, limits=LIMITS, **kwargs)
    assert isinstance(result, Extracted), result
    assert "\x00" not in result.text
    for heading in result.headings:  # offsets point at the heading line(s) as written
        line = result.text[heading.start : heading.end]
        if result.kind == "markdown":
            assert heading.title in line
        else:
            assert line == "#" * heading.level + " " + heading.title
    return result


def skipped(path, name=None, **kwargs) -> Skipped:
    result = extract_text(path, filename=name or path.name, limits=LIMITS, **kwargs)
    assert isinstance(result, Skipped), result
    assert result.message
    return result
