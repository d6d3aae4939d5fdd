"""Fill the memory table before its HNSW index exists, then build the index once.

Maintaining the HNSW graph row by row made a 1M-row COPY take 47 minutes; one build
after the fill takes minutes. Dropping the index on a shared table would leave every
live user's search without it, so the bench drops it only when the table holds nothing
but this run's throwaway users (a dedicated bench database); otherwise it fills with
the index in place and says why. The index is rebuilt from the migrations' own
definition, and checked against the one that was there before.
"""

from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.migrations.loader import MigrationLoader

from memory.models import MemoryItem

INDEX_NAME = "memory_embedding_halfvec_hnsw"
# pgvector builds the graph in memory while it fits maintenance_work_mem (the 1M-row
# index is about 1.1 GB on disk); past that it goes on much more slowly.
BUILD_MEMORY = os.environ.get("BENCH_HNSW_BUILD_MEMORY", "3GB")
_REMOVED = re.compile(r"Rows Removed by Filter: (\d+)")


def migrated_index():
    """The HNSW index as the applied migrations define it (not a copy of its options)."""
    state = MigrationLoader(connection).project_state()
    model = state.apps.get_model(MemoryItem._meta.app_label, MemoryItem._meta.model_name)
    (index,) = [index for index in model._meta.indexes if index.name == INDEX_NAME]
    return index


def index_definition(cursor) -> str | None:
    cursor.execute(
        "SELECT pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname = %s AND c.relkind = 'i'",
        [INDEX_NAME],
    )
    row = cursor.fetchone()
    return row[0] if row else None


def rows_removed_by_filter(plan: str) -> int | None:
    """The first "Rows Removed by Filter" of an EXPLAIN ANALYZE (the index scan's)."""
    found = _REMOVED.search(plan)
    return int(found.group(1)) if found else None


@dataclass
class DeferredIndex:
    """Drops the HNSW index for a fill when that is safe; `build()` puts it back."""

    bench_user_ids: list[int]
    definition: str | None = None
    dropped: bool = False
    report: dict[str, Any] = field(default_factory=dict)

    def drop_if_safe(self) -> None:
        table = MemoryItem._meta.db_table
        with connection.cursor() as cursor:
            self.definition = index_definition(cursor)
            cursor.execute(
                f"SELECT EXISTS (SELECT 1 FROM {table} WHERE owner_id <> ALL(%s))",
                [self.bench_user_ids],
            )
            others = cursor.fetchone()[0]
            if self.definition is None:
                reason = f"no index named {INDEX_NAME}; nothing to drop"
            elif others:
                reason = (
                    "the table holds other users' rows: filled with the index "
                    "in place (use a dedicated bench database, e.g. ASSISTANT_DATA_DIR=var/bench)"
                )
            else:
                with connection.schema_editor() as editor:
                    editor.remove_index(MemoryItem, migrated_index())
                self.dropped = True
                reason = "the table held only this run's bench users"
        self.report.update({"filled_before_index": self.dropped, "reason": reason})

    def build(self) -> None:
        """Create the index (timed); a no-op unless drop_if_safe() dropped it."""
        if not self.dropped:
            return
        workers = max(0, min(7, (os.cpu_count() or 2) - 1))
        started = time.perf_counter()
        with connection.schema_editor() as editor:
            # SET LOCAL: the schema editor's transaction; the session keeps its settings.
            editor.execute("SELECT set_config('maintenance_work_mem', %s, true)", [BUILD_MEMORY])
            editor.execute(
                "SELECT set_config('max_parallel_maintenance_workers', %s, true)", [str(workers)]
            )
            # Inside an enclosing transaction (the tests), the fill's deferred foreign-key
            # checks are still pending, and PostgreSQL will not build an index over them.
            editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            editor.add_index(MemoryItem, migrated_index())
        seconds = time.perf_counter() - started
        self.dropped = False
        with connection.cursor() as cursor:
            now = index_definition(cursor)
            cursor.execute("SELECT pg_size_pretty(pg_relation_size(%s))", [INDEX_NAME])
            size = cursor.fetchone()[0]
        if now != self.definition:
            raise RuntimeError(f"rebuilt {INDEX_NAME} as {now!r}, was {self.definition!r}")
        self.report.update(
            {
                "build_seconds": round(seconds, 3),
                "size": size,
                "maintenance_work_mem": BUILD_MEMORY,
                "parallel_maintenance_workers": workers,
            }
        )

    def reset(self) -> None:
        """After the cleanup, on a dedicated database: an empty graph again.

        Deleted rows stay in the HNSW graph until a vacuum repairs it, which takes long at
        1M rows, and meanwhile every insert (the next run's too) walks them: the next
        run's first insert sample fell from 0.87 to 0.35 of the encode rate. Rebuilding an
        empty index is instant.
        """
        if not self.report.get("filled_before_index"):
            return
        kept = dict(self.report)  # this run's figures, not the reset's
        self.drop_if_safe()  # checks again that no one else's rows are there
        self.build()
        self.report.clear()
        self.report.update(kept)
