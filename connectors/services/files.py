"""One sync of a drive connection: for each chosen folder, list its files, read those
whose revision moved, and store their chunks with vectors.

Per file: the size the drive reports is checked before any download; the body is
streamed to a temporary file under DOCUMENT_MAX_BYTES; its text extracted and hashed.
The same text as the document already there (a touched file) changes nothing; the
same text as a document whose file vanished from this listing is a rename or a move:
that document takes the new place with its chunks (no embedding). Anything else is
chunked and embedded, in batches across files, outside any transaction, and then
stored one document per short transaction (connectors/services/documents.py).

A file that cannot be read is recorded with its reason (skipped) or its error (failed,
retried next sync) and the sync goes on; a failure of the server (wrong password,
unreachable) stops it as a ConnectorError, and so does the worker's time limit.
Restarted after a crash, a sync reads only what is not stored at its current revision.
Files gone from a complete listing are deleted with their chunks.

After each listing, file and embedding batch the counts go to the caller's `watch`
(connectors/services/progress.py: the page's live line and the command's bar).
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from connectors.base import (
    ConnectorError,
    ConnectorKind,
    FileError,
    FileGone,
    FileListing,
    RemoteFile,
    Session,
    SourceGone,
)
from connectors.documents.chunking import Chunk, chunk_text, content_hash
from connectors.documents.download import temporary_download
from connectors.documents.extract import check_size, extract_text
from connectors.documents.models import Document
from connectors.documents.results import Extracted, Skipped, SkipReason
from connectors.models import Connection, Source
from connectors.selectors import plural
from connectors.services import documents as store
from connectors.services.progress import SyncProgress, Watch, skip_words
from connectors.services.sync import Progress, SyncReport, remote_of, source_forget
from memory.embedding import configured_model_name, embed_texts

logger = logging.getLogger(__name__)

EMBED_BATCH_CHUNKS = 256  # chunks gathered across small files before one embedding call
DONE = (Document.Status.INDEXED, Document.Status.SKIPPED)


@dataclass
class FileSyncReport(SyncReport):
    files: int = 0  # listed
    indexed: int = 0  # read and embedded
    moved: int = 0  # renamed or moved: found by their text, chunks kept
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    downloads: int = 0
    chunks_embedded: int = 0
    skip_reasons: dict[str, int] = field(default_factory=dict)
    _done: int = field(default=0, repr=False)
    _total: int = field(default=0, repr=False)
    _bytes_done: int = field(default=0, repr=False)
    _bytes_total: int = field(default=0, repr=False)
    _unsized: bool = field(default=False, repr=False)  # a file to read without a size
    _reading_since: float | None = field(default=None, repr=False)

    def skip(self, reason: str) -> None:
        self.skipped += 1
        self.skip_reasons[str(reason)] = self.skip_reasons.get(str(reason), 0) + 1

    def snapshot(self, stage: str) -> SyncProgress:
        since = self._reading_since
        progress = SyncProgress(
            stage=stage, seen=self.files, total=self._total, done=self._done,
            indexed=self.indexed, unchanged=self.unchanged, moved=self.moved,
            skipped=self.skipped, skip_reasons=dict(self.skip_reasons), failed=self.failed,
            chunks_embedded=self.chunks_embedded,
            bytes_total=0 if self._unsized else self._bytes_total,
            bytes_done=0 if self._unsized else self._bytes_done,
            elapsed_s=round(time.monotonic() - since, 3) if since is not None else 0.0,
        )  # fmt: skip
        progress.estimate()
        return progress

    def summary(self) -> str:
        counts = [
            f"{self.indexed:,} indexed",
            f"{self.unchanged:,} unchanged",
            f"{self.moved:,} moved",
            f"{self.removed:,} removed",
            f"{self.skipped:,} skipped",
        ] + ([f"{self.failed:,} failed"] if self.failed else [])
        if self.skip_reasons:
            counts[4] += f" ({skip_words(self.skip_reasons)})"
        return (
            f"{plural(self.sources, 'folder')} synced, {plural(self.files, 'file')}: "
            f"{', '.join(counts)}; {plural(self.chunks_embedded, 'passage')} embedded."
        )


@dataclass
class _Queued:
    file: RemoteFile
    digest: str
    chunks: list[Chunk]


def _work_bytes(file: RemoteFile) -> int:
    """What reading the file costs, for the time left: its size, none for a file refused
    by its size (skipped at once, never downloaded)."""
    return 0 if not file.size or check_size(file.size) is not None else file.size


def _outermost(sources: list[Source]) -> list[Source]:
    """The included sources not inside another included one (by remote_id prefix)."""
    ids = [source.remote_id for source in sources]
    return [
        source
        for source in sources
        if not any(
            other != source.remote_id and source.remote_id.startswith(other) for other in ids
        )
    ]


def drive_sync(
    *,
    connection: Connection,
    kind: ConnectorKind,
    session: Session,
    problems: list[str],
    progress: Progress | None = None,
    watch: Watch | None = None,
) -> FileSyncReport:
    """Sync every chosen folder of a drive connection (the caller refreshed its sources
    and holds its claim). Raises ConnectorError when the server fails.

    `progress` hears (files read, files to read); `watch` the full counts (SyncProgress)
    at each step: after each listing, each file and each embedding batch."""
    report = FileSyncReport(problems=problems)
    tell = _Teller(report, progress, watch)
    tell("listing")
    chosen = _outermost(list(connection.sources.included()))
    # Files of folders no longer read (unticked, gone, inside another chosen one).
    stale = Document.objects.filter(connection=connection).exclude(source__in=chosen)
    report.removed += store.documents_delete(ids=list(stale.values_list("pk", flat=True)))
    for source in chosen:
        try:
            listing = kind.list_files(session, remote_of(source), dict(source.state))
        except SourceGone as gone:
            source_forget(source=source)
            report.problems.append(f"{gone.message} {gone.hint}".strip())
            continue
        _SourceSync(kind, session, source, listing, report, tell).run()
    tell("finished")
    return report


class _Teller:
    """Says each step to the callers' callbacks (none: nothing to build)."""

    def __init__(self, report: FileSyncReport, progress: Progress | None, watch: Watch | None):
        self.report, self.progress, self.watch = report, progress, watch

    def __call__(self, stage: str = "reading") -> None:
        if self.progress is not None and stage != "listing":
            self.progress(self.report._done, self.report._total)
        if self.watch is not None:
            self.watch(self.report.snapshot(stage))


class _SourceSync:
    """One folder's listing applied: what to read, read it, store it, drop the rest."""

    def __init__(
        self,
        kind: ConnectorKind,
        session: Session,
        source: Source,
        listing: FileListing,
        report: FileSyncReport,
        tell: _Teller,
    ) -> None:
        self.kind, self.session, self.source = kind, session, source
        self.listing, self.report, self.tell = listing, report, tell
        self.remote = remote_of(source)
        self.queue: list[_Queued] = []
        self.queued_chunks = 0
        self.repointed: set[int] = set()
        # Documents whose file vanished, by their text: a file listed elsewhere with the
        # same text is the same file, renamed or moved.
        self.twins: dict[str, list[int]] = defaultdict(list)
        self.stored = {
            row.remote_id: row
            for row in Document.objects.filter(source=source).only(
                "id", "remote_id", "revision", "status", "content_hash", "path"
            )
        }

    def run(self) -> None:
        listing, report, source, stored = self.listing, self.report, self.source, self.stored
        report.sources += 1
        report.requests += listing.requests
        report.problems.extend(listing.problems)
        report.files += len(listing.files)
        if listing.unchanged:  # the kind knows nothing moved (an empty changes feed)
            report.unchanged += len(stored)
            self.done()
            return
        listed = {file.remote_id for file in listing.files}
        if listing.complete:
            vanished = set(stored) - listed
        else:
            vanished = set(listing.deleted) & (set(stored) - listed)
        for remote_id in sorted(vanished):
            row = stored[remote_id]
            if row.status == Document.Status.INDEXED and row.content_hash:
                self.twins[row.content_hash].append(row.pk)
        work = [
            file
            for file in listing.files
            if not (
                file.remote_id in stored
                and file.revision
                and stored[file.remote_id].revision == file.revision
                and stored[file.remote_id].status in DONE
            )
        ]
        report.unchanged += len(listing.files) - len(work)
        reading = {file.remote_id for file in work}
        for file in listing.files:  # same revision, new place (a folder renamed on Google)
            old = stored.get(file.remote_id)
            if old is not None and file.remote_id not in reading and old.path != file.path:
                store.document_touch(document_id=old.pk, file=file)
        report._total += len(work)
        report._bytes_total += sum(_work_bytes(file) for file in work)
        report._unsized = report._unsized or any(not file.size for file in work)
        if report._reading_since is None:
            report._reading_since = time.monotonic()
        store.documents_pending(source=source, files=[f for f in work if f.remote_id not in stored])
        self.tell()
        for file in work:
            self.file_sync(file)
            report._done += 1
            report._bytes_done += _work_bytes(file)
            self.tell()
        self.flush()
        gone = [stored[remote_id].pk for remote_id in vanished]
        report.removed += store.documents_delete(
            ids=[pk for pk in gone if pk not in self.repointed]
        )
        self.done()

    def done(self) -> None:
        Source.objects.filter(pk=self.source.pk).update(
            state=self.listing.state, last_synced_at=timezone.now()
        )

    def file_sync(self, file: RemoteFile) -> None:
        report, source = self.report, self.source
        try:
            result = self.read(file)
        except FileGone:
            report.removed += store.documents_delete(
                ids=list(Document.objects.filter(source=source, remote_id=file.remote_id)
                         .values_list("pk", flat=True))
            )  # fmt: skip
            return
        except FileError as error:
            store.document_fail(source=source, file=file, message=error.message)
            report.failed += 1
            report.problems.append(f"{file.path}: {error.message}")
            return
        if isinstance(result, Skipped):
            store.document_skip(source=source, file=file, skipped=result)
            report.skip(result.reason)
            return
        digest = content_hash(result.text)
        current = self.stored.get(file.remote_id)
        if current and current.status == Document.Status.INDEXED and current.content_hash == digest:
            store.document_touch(document_id=current.pk, file=file)
            report.unchanged += 1
            return
        if self.twins.get(digest):
            document_id = self.twins[digest].pop(0)
            store.document_repoint(document_id=document_id, source=source, file=file)
            self.repointed.add(document_id)
            report.moved += 1
            return
        chunks = chunk_text(result)
        if not chunks:
            message = "No text to index was found in this file."
            store.document_skip(
                source=source, file=file, skipped=Skipped(SkipReason.NO_TEXT, message)
            )
            report.skip(SkipReason.NO_TEXT)
            return
        self.queue.append(_Queued(file, digest, chunks))
        self.queued_chunks += len(chunks)
        if self.queued_chunks >= EMBED_BATCH_CHUNKS:
            self.flush()

    def read(self, file: RemoteFile) -> Extracted | Skipped:
        """The file's text, or why not. FileError when it could not be downloaded."""
        too_large = check_size(file.size)
        if too_large is not None:
            return too_large
        blocks = self.kind.download(self.session, self.remote, file)
        self.report.downloads += 1
        suffix = PurePosixPath(file.name).suffix
        try:
            with temporary_download(blocks, suffix=suffix, declared_size=file.size) as got:
                if isinstance(got, Skipped):
                    return got
                return extract_text(got, filename=file.name, mime_type=file.mime_type or None)
        except (ConnectorError, SoftTimeLimitExceeded):
            # FileError is this file's; another is the server's, or the worker's time
            # limit: either stops the sync (what is stored stays; the next one goes on).
            raise
        except Exception as error:  # a bug met on one file must not stop every sync after
            logger.exception("Reading %s failed", file.path)
            raise FileError(f"Reading this file failed ({type(error).__name__}).") from error

    def flush(self) -> None:
        """Embed the queued documents' chunks in one call, then store each document."""
        if not self.queue:
            return
        queue, self.queue, self.queued_chunks = self.queue, [], 0
        texts = [chunk.embedding_text for item in queue for chunk in item.chunks]
        vectors = embed_texts(texts)
        model = configured_model_name()
        offset = 0
        for item in queue:
            count = len(item.chunks)
            store.document_index(
                source=self.source, file=item.file, digest=item.digest, chunks=item.chunks,
                vectors=vectors[offset : offset + count], model=model,
            )  # fmt: skip
            offset += count
            self.report.indexed += 1
            self.report.chunks_embedded += count
        self.tell()
