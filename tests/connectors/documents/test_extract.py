"""Text from plain text, markdown, HTML and CSV; the real type found from the bytes; and
the size and text limits. Every file is a real one, made by the test; no parser is mocked."""

from __future__ import annotations

import codecs

import pytest

from connectors.documents.extract import extract_text
from connectors.documents.results import Extracted, Skipped, SkipReason
from tests.connectors.documents.reading import extracted, skipped


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


def test_text_that_mentions_the_pdf_header_is_still_text(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# PDF internals\n\nEvery file starts with %PDF-1.7 and a binary comment.")
    assert extracted(path).kind == "markdown"


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
