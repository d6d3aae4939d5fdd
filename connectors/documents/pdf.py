"""PDF to text with pypdf, page by page, run inside the worker process.

A PDF encrypted with only an owner password (printing/copying restrictions) opens with
the empty user password and is read; one that needs a password to open is `encrypted`.
A PDF whose pages hold no text is a scan: `no_text`, with OCR as the way out. A page
that fails to parse is left out rather than losing the whole document.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, PdfReadError, PyPdfError

from connectors.documents.results import Extracted, Skipped, SkipReason, TextBuilder

logger = logging.getLogger(__name__)

ENCRYPTED = Skipped(
    SkipReason.ENCRYPTED,
    "This PDF is protected with a password. Save a copy without the password (print "
    "to PDF, or remove the security in your PDF tool) and add that.",
)
SCANNED = Skipped(
    SkipReason.NO_TEXT,
    "This PDF has no text layer: its pages are images (a scan?). Run it through OCR "
    "(e.g. `ocrmypdf in.pdf out.pdf`) and add the result.",
)


def extract_pdf(path: Path, *, max_chars: int) -> Extracted | Skipped:
    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted:
            try:
                if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                    return ENCRYPTED
            except (DependencyError, NotImplementedError):
                return ENCRYPTED  # an encryption method pypdf cannot open
        pages = reader.pages
        count = len(pages)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError) as error:
        return Skipped(
            SkipReason.CORRUPT,
            f"This PDF could not be opened ({type(error).__name__}: {error}). It may be "
            "damaged or only partly uploaded; open it, save it again and re-add it.",
        )
    builder = TextBuilder("pdf", max_chars)
    for number in range(count):
        builder.page_break()
        try:
            builder.paragraph(pages[number].extract_text())
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            logger.info("%s: page %d has unreadable text; left out", path.name, number + 1)
        if builder.full:
            break
    result = builder.build()
    if isinstance(result, Skipped) and result.reason == SkipReason.NO_TEXT:
        return SCANNED
    return result
