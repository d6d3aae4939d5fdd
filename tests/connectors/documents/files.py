"""Real documents for the extraction tests, made on the spot: PDFs written object by
object (with pypdf only to encrypt), docx through python-docx, odt as the zip an office
suite writes, and zip bombs with true and with lying headers."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

from docx import Document
from pypdf import PdfReader, PdfWriter

# A 2x2 grey image: what a scanned page holds instead of text.
_IMAGE = (
    b"<< /Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray "
    b"/BitsPerComponent 8 /Length 4 >>\nstream\n\x10\x80\x80\xf0\nendstream"
)


def _pdf_string(text: str) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"(" + escaped.encode("latin-1") + b")"


def text_content(lines: list[str]) -> bytes:
    """A page content stream that shows `lines` in Helvetica, top to bottom."""
    shown = b" T* ".join(_pdf_string(line) + b" Tj" for line in lines)
    return b"BT /F1 12 Tf 14 TL 72 720 Td " + shown + b" ET"


def pdf_bytes(contents: list[bytes], *, image: bool = False) -> bytes:
    """A PDF with one page per content stream (see `text_content`)."""
    pages = len(contents)
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")  # 3
    objects.append(_IMAGE)  # 4
    kids = []
    for content in contents:
        page_number = len(objects) + 1
        kids.append(f"{page_number} 0 R".encode())
        resources = b"/Font << /F1 3 0 R >>" + (b" /XObject << /Im1 4 0 R >>" if image else b"")
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << "
            + resources
            + f" >> /Contents {page_number + 1} 0 R >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects[1] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % pages
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def write_pdf(path: Path, pages: list[list[str]]) -> Path:
    path.write_bytes(pdf_bytes([text_content(lines) for lines in pages]))
    return path


def write_scanned_pdf(path: Path, pages: int = 2) -> Path:
    draw = b"q 500 0 0 700 50 50 cm /Im1 Do Q"
    path.write_bytes(pdf_bytes([draw] * pages, image=True))
    return path


def write_encrypted_pdf(path: Path, source: Path, *, user_password: str) -> Path:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner-secret", algorithm="AES-128")
    with path.open("wb") as out:
        writer.write(out)
    return path


def write_docx(path: Path) -> Path:
    document = Document()
    document.add_heading("Travel policy", level=0)  # the "Title" style
    document.add_paragraph("This policy covers trips paid by the company.")
    document.add_heading("Booking", level=1)
    document.add_paragraph("Book flights through the portal at least two weeks ahead.")
    document.add_heading("Hotels", level=2)
    document.add_paragraph("Hotels must be under 150 euros per night.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "City", "Limit"
    table.cell(1, 0).text, table.cell(1, 1).text = "Berlin", "140 EUR"
    document.add_heading("Expenses", level=1)
    document.add_paragraph("Submit receipts within 30 days.")
    document.save(str(path))
    return path


_ODT_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
)
ODT_BODY = (
    '<text:h text:outline-level="1">Garden notes</text:h>'
    '<text:p>Tomatoes need<text:s text:c="2"/>sun.<text:note><text:note-citation>1'
    "</text:note-citation><text:note-body><text:p>A footnote.</text:p></text:note-body>"
    "</text:note> Water daily.</text:p>"
    "<text:tracked-changes><text:changed-region><text:deletion><text:p>DELETED TEXT"
    "</text:p></text:deletion></text:changed-region></text:tracked-changes>"
    '<text:h text:outline-level="2">Pests</text:h>'
    "<text:list><text:list-item><text:p>Aphids: use soap.</text:p></text:list-item></text:list>"
    "<table:table><table:table-row><table:table-cell><text:p>Plant</text:p></table:table-cell>"
    "<table:table-cell><text:p>Month</text:p></table:table-cell></table:table-row>"
    "<table:table-row><table:table-cell><text:p>Basil</text:p></table:table-cell>"
    "<table:table-cell><text:p>May</text:p></table:table-cell></table:table-row></table:table>"
)


def write_odt(path: Path, body: str = ODT_BODY, *, encrypted: bool = False) -> Path:
    content = (
        f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODT_NS}>'
        f"<office:body><office:text>{body}</office:text></office:body>"
        "</office:document-content>"
    )
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest '
        'xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml">'
        + ("<manifest:encryption-data/>" if encrypted else "")
        + "</manifest:file-entry></manifest:manifest>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
    return path


def _docx_shell(archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", "<Types/>", zipfile.ZIP_DEFLATED)


def write_ratio_bomb(path: Path, unpacked: int = 20 * 1024 * 1024) -> Path:
    """A docx whose document.xml is `unpacked` bytes of zeros: honest headers, 1000:1."""
    with zipfile.ZipFile(path, "w") as archive:
        _docx_shell(archive)
        archive.writestr("word/document.xml", b"\0" * unpacked, zipfile.ZIP_DEFLATED)
    return path


def write_declared_bomb(path: Path, declared: int = 4_000_000_000) -> Path:
    """A docx whose central directory says document.xml unpacks to `declared` bytes."""
    with zipfile.ZipFile(path, "w") as archive:
        _docx_shell(archive)
        archive.writestr("word/document.xml", b"<w:document/>" * 100, zipfile.ZIP_DEFLATED)
    return _patch_sizes(path, "word/document.xml", declared)


def write_lying_bomb(path: Path, unpacked: int = 64 * 1024 * 1024, claimed: int = 1000) -> Path:
    """A docx whose document.xml unpacks to `unpacked` bytes while both headers claim
    `claimed`: the declared totals and ratio look harmless."""
    data = b"<w:p>" + b"A" * (unpacked - 5)
    with zipfile.ZipFile(path, "w") as archive:
        _docx_shell(archive)
        archive.writestr("word/document.xml", data, zipfile.ZIP_DEFLATED)
    return _patch_sizes(path, "word/document.xml", claimed)


def _patch_sizes(path: Path, member: str, size: int) -> Path:
    """Rewrites the uncompressed size of `member` in its local and central headers."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, size)  # local header
    name = member.encode()
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + length] == name:
            struct.pack_into("<I", data, position + 24, size)  # central directory
            break
        position = data.find(b"PK\x01\x02", position + 4)
    path.write_bytes(bytes(data))
    return path
