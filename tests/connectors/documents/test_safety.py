"""Hostile and oversized input: zip bombs (honest and lying headers), a PDF that keeps the
parser busy past the time limit, a worker that dies mid-file, a download far over the
size limit, and extraction from a daemonic process as in a Celery prefork worker."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
import zipfile
import zlib

import pytest

from connectors.documents import runner
from connectors.documents.download import stream_to_file, temporary_download
from connectors.documents.extract import Limits, extract_text
from connectors.documents.results import Extracted, Skipped, SkipReason
from connectors.documents.zipguard import check_zip
from tests.connectors.documents import files

LIMITS = Limits(
    max_bytes=50 * 1024 * 1024,
    max_text_chars=100_000,
    timeout_s=30.0,
    max_unzipped_bytes=256 * 1024 * 1024,
)


def _slow_pdf(path, operations=300_000):
    """One page with a long run of text operators: pypdf needs seconds for it (about
    3 s per 100,000 on a laptop core), far beyond the test's time limit."""
    content = b"BT /F1 12 Tf 72 720 Td " + b"(word) Tj 1 0 Td " * operations + b"ET"
    path.write_bytes(files.pdf_bytes([content]))
    return path


@pytest.fixture
def fresh_worker():
    runner.shutdown()
    yield
    runner.shutdown()


def test_honest_bomb_refused_by_its_compression_ratio(tmp_path):
    path = files.write_ratio_bomb(tmp_path / "bomb.docx")
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
    assert info.file_size == 20 * 1024 * 1024 and info.compress_size < 100_000
    result = extract_text(path, filename="bomb.docx", limits=LIMITS)
    assert isinstance(result, Skipped) and result.reason == SkipReason.ARCHIVE_BOMB
    assert "zip bomb" in result.message


def test_bomb_declaring_gigabytes_refused_before_any_inflating(tmp_path):
    path = files.write_declared_bomb(tmp_path / "huge.docx")
    result = check_zip(path, max_unzipped_bytes=LIMITS.max_unzipped_bytes)
    assert result is not None and result.reason == SkipReason.ARCHIVE_BOMB
    assert "3,815 MB" in result.message
    extracted = extract_text(path, filename="huge.docx", limits=LIMITS)
    assert isinstance(extracted, Skipped) and extracted.reason == SkipReason.ARCHIVE_BOMB


def test_bomb_with_lying_headers_is_caught_while_inflating(tmp_path):
    path = files.write_lying_bomb(tmp_path / "liar.docx")
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("word/document.xml")
        raw = path.read_bytes()[info.header_offset + 30 + len(info.filename) :]
    assert info.file_size == 1000  # both headers claim a harmless size...
    inflater = zlib.decompressobj(-15)
    assert len(inflater.decompress(raw[: info.compress_size], 2_000_000)) == 2_000_000  # ...and lie
    result = extract_text(path, filename="liar.docx", limits=LIMITS)
    assert isinstance(result, Skipped) and result.reason == SkipReason.ARCHIVE_BOMB
    assert "more than its header says" in result.message


def test_lying_odt_is_caught_too(tmp_path):
    path = tmp_path / "liar.odt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.text", zipfile.ZIP_STORED)
        archive.writestr("content.xml", b"<x>" + b"a" * 5_000_000, zipfile.ZIP_DEFLATED)
    files._patch_sizes(path, "content.xml", 500)
    result = extract_text(path, filename="liar.odt", limits=LIMITS)
    assert isinstance(result, Skipped) and result.reason == SkipReason.ARCHIVE_BOMB


def test_ordinary_docx_passes_the_zip_checks(tmp_path):
    path = files.write_docx(tmp_path / "fine.docx")
    assert check_zip(path, max_unzipped_bytes=LIMITS.max_unzipped_bytes) is None


def test_damaged_docx_is_corrupt(tmp_path):
    whole = files.write_docx(tmp_path / "whole.docx").read_bytes()
    path = tmp_path / "cut.docx"
    path.write_bytes(whole[: len(whole) // 2])
    result = extract_text(path, filename="cut.docx", limits=LIMITS)
    assert isinstance(result, Skipped) and result.reason == SkipReason.CORRUPT


def test_parser_past_the_time_limit_is_stopped_and_the_next_file_works(
    tmp_path, settings, fresh_worker
):
    settings.DOCUMENT_EXTRACT_TIMEOUT_S = 0.5
    good = files.write_pdf(tmp_path / "good.pdf", [["Fine text."]])
    assert isinstance(extract_text(good, filename="good.pdf"), Extracted)  # worker started
    first = runner._worker.process
    started = time.monotonic()
    result = extract_text(_slow_pdf(tmp_path / "slow.pdf"), filename="slow.pdf")
    elapsed = time.monotonic() - started
    assert isinstance(result, Skipped) and result.reason == SkipReason.TIMEOUT, result
    assert "0.5 s" in result.message and "DOCUMENT_EXTRACT_TIMEOUT_S" in result.message
    assert elapsed < 5
    assert first.poll() is not None  # the stuck worker was killed
    again = extract_text(good, filename="good.pdf")
    assert isinstance(again, Extracted) and again.text == "Fine text."
    assert runner._worker.process.pid != first.pid


def test_one_worker_serves_many_files(tmp_path, fresh_worker):
    paths = [files.write_pdf(tmp_path / f"{n}.pdf", [[f"File number {n}."]]) for n in range(20)]
    pids = set()
    started = time.monotonic()
    for n, path in enumerate(paths):
        result = extract_text(path, filename=path.name, limits=LIMITS)
        assert isinstance(result, Extracted) and result.text == f"File number {n}."
        pids.add(runner._worker.process.pid)
    assert len(pids) == 1
    assert time.monotonic() - started < 10  # no Python start per file


def test_worker_killed_mid_file_gives_corrupt_and_a_fresh_worker(tmp_path, fresh_worker):
    slow = _slow_pdf(tmp_path / "slow.pdf")
    good = files.write_pdf(tmp_path / "good.pdf", [["Still fine."]])
    assert isinstance(extract_text(good, filename="good.pdf", limits=LIMITS), Extracted)
    pid = runner._worker.process.pid
    killer = threading.Timer(0.3, os.kill, (pid, signal.SIGKILL))  # as the OOM killer would
    killer.start()
    result = extract_text(slow, filename="slow.pdf", limits=LIMITS)
    killer.join()
    assert isinstance(result, Skipped) and result.reason == SkipReason.CORRUPT
    assert "crashed" in result.message
    assert extract_text(good, filename="good.pdf", limits=LIMITS).text == "Still fine."


@pytest.mark.skipif(not os.path.exists("/proc/self/limits"), reason="Linux /proc only")
def test_worker_address_space_is_capped(tmp_path, fresh_worker):
    path = files.write_pdf(tmp_path / "small.pdf", [["Tiny."]])
    assert isinstance(extract_text(path, filename="small.pdf", limits=LIMITS), Extracted)
    with open(f"/proc/{runner._worker.process.pid}/limits") as limits:
        line = next(line for line in limits if line.startswith("Max address space"))
    assert line.split()[3] == str(runner.MEMORY_MB * 1024 * 1024)


def _extract_in_child(path, queue):
    result = extract_text(path, filename="child.pdf", limits=LIMITS)
    queue.put(result.text if isinstance(result, Extracted) else repr(result))


def test_extraction_works_in_a_daemonic_process(tmp_path, fresh_worker):
    """Celery's prefork children are daemonic: multiprocessing may not start children
    there, a subprocess may. The forked child starts its own worker."""
    path = files.write_pdf(tmp_path / "child.pdf", [["From a daemon."]])
    assert isinstance(extract_text(path, filename="x.pdf", limits=LIMITS), Extracted)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_extract_in_child, args=(path, queue), daemon=True)
    child.start()
    assert queue.get(timeout=60) == "From a daemon."
    child.join(timeout=10)
    assert child.exitcode == 0
    assert runner._worker is not None and runner._worker.process.poll() is None  # ours lives


def _blocks(count, size=1024 * 1024, seen=None):
    try:
        for _ in range(count):
            if seen is not None:
                seen.append(1)
            yield b"x" * size
    finally:
        if seen is not None:
            seen.append("closed")


def test_stream_stops_at_the_limit_without_reading_the_rest(tmp_path):
    seen: list = []
    dest = tmp_path / "huge.bin"
    result = stream_to_file(_blocks(2048, seen=seen), dest, max_bytes=5 * 1024 * 1024)  # "2 GB"
    assert isinstance(result, Skipped) and result.reason == SkipReason.TOO_LARGE
    assert seen.count(1) == 6 and seen[-1] == "closed"  # stopped at the 6th block, closed
    assert not dest.exists()  # no partial file left


def test_stream_under_the_limit_writes_everything(tmp_path):
    dest = tmp_path / "ok.bin"
    assert stream_to_file(_blocks(3, size=1000), dest, max_bytes=3000) == 3000
    assert dest.read_bytes() == b"x" * 3000


def test_temporary_download_then_extract_and_clean_up(tmp_path, settings):
    settings.DOCUMENT_MAX_BYTES = 1024 * 1024
    body = files.pdf_bytes([files.text_content(["Downloaded text."])])
    with temporary_download(iter([body[:100], body[100:]]), suffix=".pdf") as got:
        assert not isinstance(got, Skipped)
        kept = got
        assert extract_text(got, filename="remote.pdf").text == "Downloaded text."
    assert not kept.exists()
    with temporary_download(_blocks(10), suffix=".txt") as got:
        assert isinstance(got, Skipped) and got.reason == SkipReason.TOO_LARGE


def test_declared_size_over_the_limit_reads_nothing():
    seen: list = []
    with temporary_download(_blocks(5, seen=seen), max_bytes=1000, declared_size=2**31) as got:
        assert isinstance(got, Skipped) and got.reason == SkipReason.TOO_LARGE
        assert "2.0 GB" in got.message
    assert 1 not in seen
