"""The memory vector index becomes a half-precision HNSW graph (issue 10).

Built CONCURRENTLY before the old index is dropped, so search keeps an index and
writes go on while it builds: at a million rows the build took 4 minutes on 2 cores
(BENCHMARKS.md). pgvector builds fastest while the graph fits maintenance_work_mem
(about 1.1 GB at a million rows); MEMORY_INDEX_BUILD_MEMORY sets it for this session.
"""

import os

import django.contrib.postgres.indexes
import django.db.models.functions.comparison
import pgvector.django.halfvec
import pgvector.django.indexes
from django.conf import settings
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations

BUILD_MEMORY = os.environ.get("MEMORY_INDEX_BUILD_MEMORY", "2GB")


class Migration(migrations.Migration):
    atomic = False  # CREATE/DROP INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("memory", "0007_task_runs_moved_to_assistant"),
    ]

    operations = [
        migrations.RunSQL(
            sql=[("SELECT set_config('maintenance_work_mem', %s, false)", [BUILD_MEMORY])],
            reverse_sql=migrations.RunSQL.noop,
        ),
        AddIndexConcurrently(
            model_name="memoryitem",
            index=pgvector.django.indexes.HnswIndex(
                django.contrib.postgres.indexes.OpClass(
                    django.db.models.functions.comparison.Cast(
                        "embedding",
                        pgvector.django.halfvec.HalfVectorField(dimensions=settings.EMBEDDING_DIM),
                    ),
                    name="halfvec_cosine_ops",
                ),
                ef_construction=64,
                m=16,
                name="memory_embedding_halfvec_hnsw",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="memoryitem",
            name="memory_embedding_hnsw",
        ),
        migrations.RunSQL(sql="RESET maintenance_work_mem", reverse_sql=migrations.RunSQL.noop),
    ]
