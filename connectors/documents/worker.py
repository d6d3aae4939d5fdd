"""The extraction worker: `python -m connectors.documents.worker`, one JSON line in, one
JSON line out, per file.

PDF, docx, odt and HTML parsers run here, not in the web or Celery process, so that a
file which makes a parser loop can be killed on a wall-clock limit, and one that makes it
crash or eat memory takes down only this process (its address space is capped). The
worker imports no Django: every limit arrives with the request. It exits when its stdin
closes (the parent went away) or after an idle time given on its command line. The
parent side is `runner.py`.

Request: {"kind": "pdf", "path": "/tmp/x.pdf", "max_chars": 2000000,
          "max_bytes": 52428800, "max_unzipped_bytes": 268435456}
Reply:   Extracted.to_json() or Skipped.to_json().
"""

from __future__ import annotations

import json
import logging
import os
import select
import sys
from pathlib import Path
from typing import Any

from connectors.documents.html import extract_html
from connectors.documents.office import extract_docx, extract_odt
from connectors.documents.pdf import extract_pdf
from connectors.documents.results import Skipped, SkipReason
from connectors.documents.zipguard import check_zip


def handle(request: dict[str, Any]) -> dict[str, Any]:
    kind, path, max_chars = request["kind"], Path(request["path"]), request["max_chars"]
    try:
        if kind == "pdf":
            result = extract_pdf(path, max_chars=max_chars)
        elif kind == "html":
            result = extract_html(path, max_chars=max_chars, max_bytes=request["max_bytes"])
        elif kind in ("docx", "odt"):
            refused = check_zip(path, max_unzipped_bytes=request["max_unzipped_bytes"])
            if refused is not None:
                result = refused
            elif kind == "docx":
                result = extract_docx(path, max_chars=max_chars)
            else:
                result = extract_odt(path, max_chars=max_chars)
        else:
            raise ValueError(f"no extractor for {kind!r}")
    except MemoryError:
        result = Skipped(
            SkipReason.TOO_LARGE,
            "Reading this file needed more memory than a document may use. Split it into "
            "smaller files and add those.",
        )
    except RecursionError:
        result = Skipped(
            SkipReason.CORRUPT,
            "This file is nested too deeply to read (damaged or hostile). Save it again "
            "from the program that made it and re-add it.",
        )
    except Exception as error:  # a parser's unexpected failure on one file, not ours
        logging.getLogger(__name__).warning("%s: %r", path.name, error)
        result = Skipped(
            SkipReason.CORRUPT,
            f"This file could not be read ({type(error).__name__}). It may be damaged; "
            "open it, save it again and re-add it.",
        )
    return result.to_json()


def _cap_memory(megabytes: int) -> None:
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ImportError, ValueError, OSError):  # not on this platform: the timeout still holds
        pass


def main(argv: list[str]) -> int:
    """argv: [memory cap in MB (0: none), idle seconds before exiting]."""
    memory_mb, idle_s = int(argv[1]), float(argv[2])
    # Only replies go to the real stdout: anything a library prints goes to stderr.
    replies = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="replace")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    logging.basicConfig(level=logging.WARNING, format="document worker: %(message)s")
    logging.getLogger("pypdf").setLevel(logging.ERROR)  # page-level noise on odd PDFs
    if memory_mb:
        _cap_memory(memory_mb)
    replies.write('{"ready": true}\n')
    replies.flush()
    stdin = sys.stdin.buffer
    while True:
        ready, _, _ = select.select([stdin], [], [], idle_s)
        if not ready:
            return 0
        line = stdin.readline()
        if not line:
            return 0
        reply = handle(json.loads(line))
        replies.write(json.dumps(reply, ensure_ascii=False) + "\n")
        replies.flush()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
