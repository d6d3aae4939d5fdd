"""Text from PDF, docx and odt files made by the test (see files.py), and the reasons for
the ones that cannot be read: scanned, password-protected, damaged, or old formats."""

from __future__ import annotations

from connectors.documents.extract import Limits, extract_text
from connectors.documents.results import Extracted, SkipReason
from tests.connectors.documents import files
from tests.connectors.documents.reading import extracted, skipped


def test_pdf_text_with_page_offsets(tmp_path):
    path = files.write_pdf(
        tmp_path / "report.pdf", [["Quarterly report.", "Revenue grew (a lot)."], ["Page two."]]
    )
    result = extracted(path)
    assert result.kind == "pdf"
    assert "Quarterly report." in result.text and "Revenue grew (a lot)." in result.text
    assert len(result.pages) == 2
    assert result.text[result.pages[1] :].startswith("Page two.")


def test_pdf_detected_by_content_whatever_its_name(tmp_path):
    path = files.write_pdf(tmp_path / "download.bin", [["Named wrongly."]])
    assert extracted(path, name="download").text == "Named wrongly."


def test_scanned_pdf_has_no_text_layer(tmp_path):
    result = skipped(files.write_scanned_pdf(tmp_path / "scan.pdf"))
    assert result.reason == SkipReason.NO_TEXT
    assert "OCR" in result.message and "no text layer" in result.message


def test_password_protected_pdf_is_encrypted(tmp_path):
    source = files.write_pdf(tmp_path / "plain.pdf", [["Secret numbers."]])
    result = skipped(files.write_encrypted_pdf(tmp_path / "locked.pdf", source, user_password="pw"))
    assert result.reason == SkipReason.ENCRYPTED
    assert "password" in result.message


def test_pdf_with_only_an_owner_password_is_read(tmp_path):
    source = files.write_pdf(tmp_path / "plain.pdf", [["Readable by anyone."]])
    locked = files.write_encrypted_pdf(tmp_path / "restricted.pdf", source, user_password="")
    assert extracted(locked).text == "Readable by anyone."


def test_truncated_pdf_is_corrupt(tmp_path):
    whole = files.write_pdf(tmp_path / "whole.pdf", [["Some text."]]).read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(whole[: len(whole) // 2])  # an interrupted upload
    result = skipped(path)
    assert result.reason == SkipReason.CORRUPT and "damaged or only partly" in result.message


def test_docx_headings_paragraphs_and_tables(tmp_path):
    result = extracted(files.write_docx(tmp_path / "policy.docx"))
    assert result.kind == "docx"
    assert [(h.level, h.title) for h in result.headings] == [
        (1, "Travel policy"),
        (2, "Booking"),
        (3, "Hotels"),
        (2, "Expenses"),
    ]
    assert "Hotels must be under 150 euros per night." in result.text
    assert "City | Limit\n\nBerlin | 140 EUR" in result.text


def test_docx_named_as_odt_is_read_as_what_it_is(tmp_path):
    path = files.write_docx(tmp_path / "policy.odt")
    assert extracted(path).kind == "docx"


def test_odt_headings_lists_tables_without_deletions_or_notes(tmp_path):
    result = extracted(files.write_odt(tmp_path / "garden.odt"))
    assert result.kind == "odt"
    assert [(h.level, h.title) for h in result.headings] == [(1, "Garden notes"), (2, "Pests")]
    assert "Tomatoes need  sun. Water daily." in result.text
    assert "Aphids: use soap." in result.text
    assert "Plant | Month\n\nBasil | May" in result.text
    assert "DELETED" not in result.text and "footnote" not in result.text


def test_encrypted_odt(tmp_path):
    result = skipped(files.write_odt(tmp_path / "locked.odt", encrypted=True))
    assert result.reason == SkipReason.ENCRYPTED


def test_password_protected_docx_is_encrypted(tmp_path):
    """Office saves a password-protected docx as an OLE compound file holding an
    "EncryptedPackage" stream: the container's signature and that stream's name."""
    path = tmp_path / "locked.docx"
    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
    directory = "EncryptedPackage".encode("utf-16-le") + b"\0" * 96
    path.write_bytes(header + b"\0" * 512 + directory + b"\0" * 4096)
    assert skipped(path).reason == SkipReason.ENCRYPTED


def test_old_word_document_is_unsupported(tmp_path):
    path = tmp_path / "old.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048)
    result = skipped(path)
    assert result.reason == SkipReason.UNSUPPORTED_TYPE and "old Office" in result.message


def test_long_pdf_stops_at_the_char_limit(tmp_path):
    pages = [[f"Page {n} has some words on it."] * 20 for n in range(30)]
    path = files.write_pdf(tmp_path / "long.pdf", pages)
    limits = Limits(max_bytes=10**7, max_text_chars=2000, timeout_s=30, max_unzipped_bytes=10**8)
    result = extract_text(path, filename="long.pdf", limits=limits)
    assert isinstance(result, Extracted) and result.truncated and len(result.text) <= 2000
