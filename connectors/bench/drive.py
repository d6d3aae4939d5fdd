"""Drive benchmark: a first sync and an incremental sync through a real WebDAV server.

`run()` writes generated documents (markdown, text and DOCX, in nested folders) into a
WsgiDAV server of its own process, connects a throwaway user through the WebDAV kind and
syncs with the service the worker uses (connection_sync), timing what the embedding
model takes of it; then changes 1% of the files and syncs again. The user, its
documents and the folder go afterwards.
"""

from __future__ import annotations

import random
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from connectors.bench.webdav import MOUNT
from connectors.documents.models import Document, DocumentChunk
from connectors.services import files as file_sync
from connectors.services.connections import connection_create
from connectors.services.sync import connection_sync
from connectors.webdav.kind import WebDavKind
from inference.local_server import free_port
from memory.bench import synthetic

USER_PREFIX = "bench-drive-"
PER_FOLDER = 50
START_TIMEOUT_S = 30


@contextmanager
def webdav_process(root: Path, username: str, password: str) -> Iterator[str]:
    """WsgiDAV serving `root` from a process of its own; yields the files' address."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "connectors.bench.webdav", str(root), str(port), username,
         password],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the WebDAV server did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}{MOUNT}/"
    finally:
        process.terminate()
        process.wait(timeout=10)


def _markdown(rng: random.Random, sentences: list[str], title: str) -> str:
    """A note of a few sections: headings over paragraphs of generated sentences."""
    parts = [f"# {title}\n"]
    for section in range(rng.randint(2, 5)):
        parts.append(f"\n## Part {section + 1}\n")
        for _ in range(rng.randint(1, 3)):
            parts.append("\n" + " ".join(rng.choices(sentences, k=rng.randint(3, 8))) + "\n")
    return "".join(parts)


def _docx(path: Path, text: str) -> None:
    import docx

    document = docx.Document()
    for line in text.splitlines():
        if line.startswith("## "):
            document.add_heading(line[3:], level=2)
        elif line.startswith("# "):
            document.add_heading(line[2:], level=1)
        elif line.strip():
            document.add_paragraph(line)
    document.save(str(path))


def write_documents(root: Path, count: int, seed: int) -> list[Path]:
    """`count` files in folders of PER_FOLDER: markdown, plain text and 5% DOCX."""
    rng = random.Random(seed)
    sentences = [text for _, text in synthetic.sentences(2000, seed=seed)]
    paths = []
    for n in range(count):
        folder = root / f"area-{n // (PER_FOLDER * 4)}" / f"project-{n // PER_FOLDER}"
        folder.mkdir(parents=True, exist_ok=True)
        text = _markdown(rng, sentences, f"Notes {n}")
        if n % 20 == 0:
            path = folder / f"report-{n}.docx"
            _docx(path, text)
        else:
            path = folder / (f"note-{n}.md" if n % 2 else f"note-{n}.txt")
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _change(paths: list[Path], share: float, seed: int) -> list[Path]:
    """Rewrite `share` of the text files (a paragraph added to each)."""
    rng = random.Random(seed + 1)
    texts = [path for path in paths if path.suffix in (".md", ".txt")]
    changed = rng.sample(texts, max(1, round(len(paths) * share)))
    for path in changed:
        path.write_text(path.read_text() + "\n\nAdded later: the plan changed again.\n")
    return changed


@contextmanager
def timed_embedding() -> Iterator[list[float]]:
    """Seconds spent inside the embedding model during the block (one entry per batch)."""
    spent: list[float] = []
    real = file_sync.embed_texts

    def counting(texts, **kwargs):
        started = time.perf_counter()
        try:
            return real(texts, **kwargs)
        finally:
            spent.append(time.perf_counter() - started)

    file_sync.embed_texts = counting
    try:
        yield spent
    finally:
        file_sync.embed_texts = real


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)  # kB on Linux


def run(
    *,
    documents: int,
    change_share: float,
    seed: int,
    progress: Callable[[str], None],
    then: Callable[[Any], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The sync stages; `then(owner)` runs on the synced user before it is deleted."""
    user = get_user_model().objects.create_user(username=f"{USER_PREFIX}{uuid.uuid4().hex[:8]}")
    result: dict[str, Any] = {"documents": documents}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-drive-") as folder:
            root = Path(folder)
            paths = write_documents(root, documents, seed)
            result["bytes"] = sum(path.stat().st_size for path in paths)
            progress(f"wrote {documents} files ({result['bytes'] / 1e6:.1f} MB)")
            with webdav_process(root, "bench", "bench-pass") as url:
                kind = WebDavKind()
                login = {"url": url, "username": "bench", "password": "bench-pass"}
                connected = kind.connect(login)
                connection = connection_create(owner=user, kind=kind.slug, connected=connected)
                with timed_embedding() as spent:
                    started = time.perf_counter()
                    report = connection_sync(connection=connection)
                    first = time.perf_counter() - started
                chunks = DocumentChunk.objects.owned_by(user).count()
                indexed = Document.objects.owned_by(user).filter(status="indexed").count()
                progress(f"first sync: {first:.1f} s, {indexed} files, {chunks} passages")
                result.update(
                    {
                        "indexed": indexed,
                        "chunks": chunks,
                        "first_sync_s": round(first, 2),
                        "documents_per_s": round(indexed / first, 1),
                        "chunks_per_s": round(chunks / first, 1),
                        "embedding_s": round(sum(spent), 2),
                        "embedding_share": round(sum(spent) / first, 3),
                        "first_sync_summary": report.summary(),
                    }
                )
                changed = _change(paths, change_share, seed)
                connection.refresh_from_db()
                started = time.perf_counter()
                report = connection_sync(connection=connection)
                again = time.perf_counter() - started
                progress(f"incremental sync after {len(changed)} changed files: {again:.2f} s")
                result.update(
                    {
                        "changed": len(changed),
                        "incremental_s": round(again, 3),
                        "incremental_summary": report.summary(),
                    }
                )
        result["peak_rss_mb"] = _peak_rss_mb()
        if then is not None:
            result.update(then(user))
        return result
    finally:
        user.delete()  # its connection, documents and passages go with it
