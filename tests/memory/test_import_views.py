"""Importing through the memory page: size cap before the body is read, clear errors for
damaged files, big files in the background with progress, and nothing imported twice."""

from __future__ import annotations

import asyncio
import io
import json

import pytest
from asgiref.testing import ApplicationCommunicator
from django.core.files.uploadhandler import StopUpload
from django.http.multipartparser import MultiPartParser
from django.urls import reverse

from assistant.background.models import PendingImport, TaskRun
from assistant.background.tasks import memory_import as memory_import_task
from memory.models import MemoryItem
from memory.services import memory_create, memory_export
from memory.uploads import ImportSizeLimit

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
IMPORT = reverse("memory:import")


def _upload(data, name="memory.json"):
    upload = io.BytesIO(data if isinstance(data, bytes) else json.dumps(data).encode())
    upload.name = name
    return upload


def _export(user, *texts):
    for text in texts:
        memory_create(owner=user, text=text, kind="fact", source="stated", actor="user")
    return memory_export(owner=user)


def test_a_file_over_the_limit_is_refused_with_the_forms_error(owner_client, owner, settings):
    settings.MEMORY_IMPORT_MAX_BYTES = 4096
    data = {"format": "recall-assistant/memory", "version": 1,
            "items": [{"text": "x" * 5000}]}  # fmt: skip
    response = owner_client.post(IMPORT, {"file": _upload(data)}, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "the limit is 4,096 bytes. Nothing was imported." in body
    assert 'data-max-bytes="4096"' in body  # memory.js refuses it before sending, too
    assert not MemoryItem.objects.exists()


class _Unreadable(io.RawIOBase):
    def read(self, *_args):
        raise AssertionError("the body was read")


def test_the_upload_handler_refuses_a_declared_size_without_reading_the_body():
    handler = ImportSizeLimit(limit=1000)
    meta = {"CONTENT_TYPE": "multipart/form-data; boundary=xyz", "CONTENT_LENGTH": "50000000"}
    post, files = MultiPartParser(meta, _Unreadable(), [handler]).parse()
    assert (dict(post), dict(files), handler.refused_bytes) == ({}, {}, 50_000_000)


def test_the_upload_handler_stops_at_the_limit_while_receiving():
    """Defence in depth (a server that passes a body longer than it declared)."""
    handler = ImportSizeLimit(limit=100_000)
    assert handler.receive_data_chunk(b"x" * 65_536, 0) == b"x" * 65_536
    with pytest.raises(StopUpload) as stopped:
        handler.receive_data_chunk(b"x" * 65_536, 65_536)
    assert stopped.value.connection_reset and handler.refused_bytes == 131_072


def _asgi_post(headers, chunks):
    """POST the memory import through the real ASGI application; returns (status, reads)."""
    from assistant.asgi import application

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": IMPORT, "raw_path": IMPORT.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("testserver", 80)}  # fmt: skip

    async def go():
        app = ApplicationCommunicator(application, scope)
        for index, chunk in enumerate(chunks):
            await app.send_input(
                {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
            )
        start = await app.receive_output(timeout=10)
        await app.receive_output(timeout=10)
        await app.wait(timeout=10)
        return start["status"]

    return asyncio.run(go())


@pytest.mark.django_db(transaction=True)
def test_asgi_refuses_a_declared_oversize_import_before_reading_it(settings):
    settings.MEMORY_IMPORT_MAX_BYTES = 20 * 1024 * 1024
    headers = [(b"content-type", b"multipart/form-data; boundary=xyz"),
               (b"content-length", str(50 * 1024 * 1024).encode())]  # fmt: skip
    assert _asgi_post(headers, []) == 413  # not one body message was sent, none was needed


@pytest.mark.django_db(transaction=True)
def test_asgi_cuts_off_an_undeclared_oversize_import(settings):
    headers = [(b"content-type", b"multipart/form-data; boundary=xyz")]
    chunks = [b"x" * (1024 * 1024)] * 21  # 21 MB, no Content-Length
    assert _asgi_post(headers, chunks) == 413


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (b'{"format": "recall-assistant/memory", "version": 1, "items": [{"text": "a", '
         b'"occurred_at": "2024-02-30T10:00:00"}]}', "items[0].occurred_at: &#x27;2024-02-30"),
        (b'{"format": "recall-assistant/memory", "version": 1, "items": [{"text": "a", '
         b'"id": [1]}]}', "items[0].id: must be a number or a string, not list"),
        (b'{"n": ' + b"9" * 5000 + b"}", "not a memory export we can read"),
    ],
)  # fmt: skip
def test_damaged_files_get_the_forms_error_not_a_500(owner_client, owner, raw, message):
    response = owner_client.post(IMPORT, {"file": _upload(raw)}, **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Nothing was imported" in body and message in body
    assert not MemoryItem.objects.exists()


def test_importing_the_same_file_twice_says_what_was_skipped(owner_client, owner, outsider):
    data = _export(outsider, "I like figs.", "I like dates.")
    first = owner_client.post(IMPORT, {"file": _upload(data)}, **HX)
    assert b"Imported 2 memories." in first.content
    second = owner_client.post(IMPORT, {"file": _upload(data)}, **HX)
    assert b"Imported 0 memories. 2 memories were already there and skipped." in second.content
    assert MemoryItem.objects.owned_by(owner).count() == 2


def test_a_big_import_runs_in_the_background_with_progress(
    owner_client, owner, outsider, settings, django_capture_on_commit_callbacks
):
    settings.MEMORY_IMPORT_SYNC_MAX_ITEMS = 2
    data = _export(outsider, "I like figs.", "I like dates.", "I like plums.")
    with django_capture_on_commit_callbacks() as queued:
        response = owner_client.post(IMPORT, {"file": _upload(data, "figs.json")}, **HX)
    body = response.content.decode()
    assert "Importing 3 memories in the background" in body
    # The page's background-work section is swapped in and starts polling.
    assert 'hx-swap-oob="outerHTML"' in body and 'hx-trigger="every 2s"' in body
    assert "Waiting to import 3 memories…" in body
    assert len(queued) == 1  # the task is sent once the upload is committed
    run = TaskRun.objects.get(owner=owner, kind="import")
    assert run.target_label == "import of 3 memories from figs.json"
    assert not MemoryItem.objects.owned_by(owner).exists()
    polling = owner_client.get(reverse("background-status"), **HX)
    assert polling.status_code == 200 and b"Waiting to import 3 memories" in polling.content

    pending = PendingImport.objects.get(run=run)
    memory_import_task.apply(args=[pending.pk], task_id=run.celery_task_id)

    run.refresh_from_db()
    assert (run.state, run.memories_added, run.progress_done) == ("succeeded", 3, 3)
    assert run.detail == "Imported 3 memories."
    assert MemoryItem.objects.owned_by(owner).count() == 3
    done = owner_client.get(reverse("background-status") + "?was_pending=1", **HX)
    assert done.status_code == 286 and b"Imported 3 memories." in done.content
    assert "memory-list-changed" in done["HX-Trigger"]


def test_a_failed_background_import_shows_its_error(owner_client, owner, outsider, settings):
    settings.MEMORY_IMPORT_SYNC_MAX_ITEMS = 0
    data = _export(outsider, "I like figs.")
    owner_client.post(IMPORT, {"file": _upload(data)}, **HX)
    run = TaskRun.objects.get(owner=owner, kind="import")
    PendingImport.objects.filter(run=run).update(payload='{"format": "other"}')

    memory_import_task.apply(args=[run.pending_import.pk], task_id=run.celery_task_id)

    run.refresh_from_db()
    assert run.state == "failed" and run.error.startswith("Nothing was imported.")
    page = owner_client.get(reverse("background-status"), **HX).content.decode()
    assert "alert alert-error" in page and "Nothing was imported. The problem: format" in page
    assert not MemoryItem.objects.owned_by(owner).exists()


def test_an_outsider_sees_none_of_the_owners_import_runs(owner, outsider, settings, client):
    settings.MEMORY_IMPORT_SYNC_MAX_ITEMS = 0
    client.force_login(owner)
    client.post(IMPORT, {"file": _upload(_export(outsider, "I like figs."))}, **HX)
    client.force_login(outsider)
    response = client.get(reverse("background-status"), **HX)
    assert response.status_code == 286 and b"import" not in response.content.lower()
