"""Text from each supported format, and the reason given for each file that cannot be
read. Every file is a real one, made by the test (see files.py); no parser is mocked."""

from __future__ import annotations

import codecs

import pytest

from connectors.documents.extract import Limits, extract_text
from connectors.documents.results import Extracted, Skipped, SkipReason
from tests.connectors.documents import files

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


def test_plain_text_keeps_paragraphs_and_drops_nul_bytes(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"First paragraph.\r\nStill first.\r\n\r\nSecond\x00 paragraph.")
    result = extracted(path)
    assert result.kind == "text"
    assert result.text == "First paragraph.\nStill first.\n\nSecond paragraph."


def test_invalid_utf8_is_replaced_not_fatal(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes("Grüße aus Köln. ".encode() * 50 + b"\xff\xfe\xfa bad bytes \xc3")
    result = extracted(path)
    assert result.text.startswith("Grüße aus Köln.")
    assert "bad bytes" in result.text


def test_latin1_text_is_decoded_by_guess(tmp_path):
    path = tmp_path / "old.txt"
    path.write_bytes("Les élèves étudient à l'école française. ".encode("latin-1") * 20)
    assert "élèves étudient à l'école" in extracted(path).text


@pytest.mark.parametrize(
    ("bom", "encoding"),
    [
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
        (codecs.BOM_UTF8, "utf-8"),
    ],
)
def test_byte_order_marks_decide_the_encoding(tmp_path, bom, encoding):
    path = tmp_path / "unicode.txt"
    path.write_bytes(bom + "Ünïcödé text, 日本語 and emoji 🙂.".encode(encoding))
    assert extracted(path).text == "Ünïcödé text, 日本語 and emoji 🙂."


def test_utf16_without_a_mark_is_still_text(tmp_path):
    path = tmp_path / "windows.txt"
    path.write_bytes("Plain words from a Windows tool.\r\n".encode("utf-16-le") * 10)
    assert extracted(path).text.startswith("Plain words from a Windows tool.\nPlain")


def test_markdown_headings_with_offsets_and_code_fences_ignored(tmp_path):
    path = tmp_path / "guide.md"
    path.write_text(
        "Intro line.\n\n# Setup\n\nInstall it.\n\n```\n# not a heading\n```\n\n"
        "## Linux ##\n\nUse apt.\n\nWindows\n-------\n\nUse the installer.\n"
    )
    result = extracted(path)
    assert result.kind == "markdown"
    assert [(h.level, h.title) for h in result.headings] == [
        (1, "Setup"),
        (2, "Linux"),
        (2, "Windows"),
    ]
    assert result.text[result.headings[1].start : result.headings[1].end] == "## Linux ##"
    assert result.text[result.headings[2].start : result.headings[2].end] == "Windows\n-------"


def test_html_text_without_scripts_or_styles(tmp_path):
    path = tmp_path / "page.html"
    path.write_text(
        "<!doctype html><html><head><title>T</title><style>p {color: red}</style>"
        "<script>var secret = 'do not index';</script></head><body>"
        "<h1>Welcome <em>home</em></h1><p>Hello <b>wor</b>ld<!-- hidden -->!<br>Next line</p>"
        "<script>alert('also hidden')</script><p>After script</p>"
        "<ul><li>one</li><li>two</li></ul>"
        "<table><tr><th>City</th><th>Pop</th></tr><tr><td>Oslo</td><td>700k</td></tr></table>"
        "<h2>More</h2><p>Done.</p></body></html>",
        encoding="utf-8",
    )
    result = extracted(path)
    assert result.kind == "html"
    for hidden in ("secret", "hidden", "color", "alert"):
        assert hidden not in result.text
    assert "Hello world!\nNext line" in result.text
    assert "After script" in result.text
    assert "- one" in result.text and "City | Pop" in result.text and "Oslo | 700k" in result.text
    assert [(h.level, h.title) for h in result.headings] == [(1, "Welcome home"), (2, "More")]


def test_html_meta_charset_is_honoured(tmp_path):
    path = tmp_path / "old.htm"
    path.write_bytes(
        b'<html><head><meta charset="windows-1252"></head><body><p>'
        + "Café \u2013 naïve".encode("cp1252")
        + b"</p></body></html>"
    )
    assert extracted(path).text == "Café \u2013 naïve"


def test_html_is_detected_from_content_when_named_txt(tmp_path):
    path = tmp_path / "saved.txt"
    path.write_text(
        "<!DOCTYPE html><html><body><p>Saved page</p><script>x()</script></body></html>"
    )
    result = extracted(path)
    assert result.kind == "html" and result.text == "Saved page"


def test_csv_rows_become_labelled_lines(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,city,age\nAda Lovelace,London,36\nAlan Turing,Wilmslow,41\n")
    result = extracted(path)
    assert result.kind == "csv"
    assert (
        result.text
        == "name: Ada Lovelace; city: London; age: 36\n\nname: Alan Turing; city: Wilmslow; age: 41"
    )


def test_semicolon_csv_without_header(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("Oslo;59.9;10.7\nLima;-12.0;-77.0\n")
    assert extracted(path).text == "Oslo | 59.9 | 10.7\n\nLima | -12.0 | -77.0"


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
    path.write_bytes(whole[:60])
    assert skipped(path).reason in (SkipReason.CORRUPT, SkipReason.NO_TEXT)


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


def test_png_named_txt_is_detected(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0\0\0\rIHDR" + bytes(range(256)) * 4)
    result = skipped(path)
    assert result.reason == SkipReason.UNSUPPORTED_TYPE and "PNG" in result.message


def test_binary_noise_named_md_is_unsupported(tmp_path):
    path = tmp_path / "data.md"
    path.write_bytes(bytes(range(256)) * 8)
    assert skipped(path).reason == SkipReason.UNSUPPORTED_TYPE


def test_text_named_pdf_is_corrupt(tmp_path):
    path = tmp_path / "fake.pdf"
    path.write_text("I am not a PDF at all.")
    assert skipped(path).reason == SkipReason.CORRUPT


def test_unknown_extension_and_spreadsheets_are_unsupported(tmp_path):
    script = tmp_path / "tool.exe"
    script.write_text("print('hello')")
    assert skipped(script).reason == SkipReason.UNSUPPORTED_TYPE
    xlsx = tmp_path / "sheet.xlsx"
    import zipfile

    with zipfile.ZipFile(xlsx, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    assert skipped(xlsx).reason == SkipReason.UNSUPPORTED_TYPE


def test_mime_type_decides_when_there_is_no_extension(tmp_path):
    path = tmp_path / "export"
    path.write_text("# Exported\n\nFrom a drive.")
    result = extracted(path, name="Exported doc", mime_type="text/markdown; charset=utf-8")
    assert result.kind == "markdown" and result.headings[0].title == "Exported"


def test_empty_and_whitespace_files_have_no_text(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.txt"
    blank.write_text("  \n\n\t  \n")
    assert skipped(empty).reason == SkipReason.NO_TEXT
    assert skipped(blank).reason == SkipReason.NO_TEXT


def test_file_over_the_size_limit_is_too_large_before_reading(tmp_path, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)
    result = extract_text(path, filename="big.txt")
    assert isinstance(result, Skipped) and result.reason == SkipReason.TOO_LARGE
    assert "DOCUMENT_MAX_BYTES" in result.message


def test_text_over_the_char_limit_is_cut_at_a_word_with_a_note(tmp_path, settings):
    settings.DOCUMENT_MAX_TEXT_CHARS = 1000
    for name, body in (("long.txt", "alpha beta " * 500), ("long.md", "# T\n\n" + "gamma " * 500)):
        path = tmp_path / name
        path.write_text(body)
        result = extract_text(path, filename=name)
        assert isinstance(result, Extracted)
        assert result.truncated and len(result.text) <= 1000
        assert result.text.split()[-1] in ("beta", "alpha", "gamma")
        assert "1,000 characters" in result.notes[0]


def test_long_pdf_stops_at_the_char_limit(tmp_path):
    pages = [[f"Page {n} has some words on it."] * 20 for n in range(30)]
    path = files.write_pdf(tmp_path / "long.pdf", pages)
    limits = Limits(max_bytes=10**7, max_text_chars=2000, timeout_s=30, max_unzipped_bytes=10**8)
    result = extract_text(path, filename="long.pdf", limits=limits)
    assert isinstance(result, Extracted) and result.truncated and len(result.text) <= 2000
