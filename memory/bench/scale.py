"""Scale benchmark: insert throughput, and retrieval latency for one user among many.

Embedding a million memories on a small CPU takes hours, so only a pool of distinct
generated sentences is embedded for real; the bulk fill reuses and composes their
vectors (a sentence alone, or two sentences joined with their vectors summed, plus a
little noise so that no two rows share a vector) and writes them with COPY, before the
HNSW index exists when that is safe (memory/bench/bulk_index.py). Insert throughput
through the product path (memory_bulk_create, embedding included) is measured
separately on samples of fresh sentences, against the raw encode rate of the same
sentences: once on the empty table, once after the fill (the index then holds every
row, and each insert walks that graph).
"""

from __future__ import annotations

import re
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from pgvector.psycopg import register_vector
from rich.console import Console
from rich.table import Table

from memory.bench import synthetic
from memory.bench.bulk_index import INDEX_NAME, DeferredIndex, rows_removed_by_filter
from memory.bench.stats import percentile
from memory.embedding import configured_model_name, embed_texts
from memory.models import Actor, MemoryItem, MemoryRevision, Source
from memory.search import fulltext, memory_search, sql
from memory.services import memory_bulk_create

USER_PREFIX = "bench-scale-"
_VECTOR = re.compile(r"'\[[-0-9.e,\s]+\]'")
COPY_BATCH = 20_000
_COLUMNS = (
    "owner_id, text, kind, status, source, quote, source_ref, thread_key, occurred_at, "
    "pinned, use_count, embedding, embedding_model, created_at, updated_at"
)
_TYPES = [
    "int4", "text", "varchar", "varchar", "varchar", "text", "varchar", "varchar",
    "timestamptz", "bool", "int4", "vector", "varchar", "timestamptz", "timestamptz",
]  # fmt: skip


def _rows(owner_id: int, count: int, texts, vectors: np.ndarray, rng, start: int):
    """`count` composed rows for one owner, as tuples in _COLUMNS order."""
    pool = len(texts)
    first = rng.integers(0, pool, count)
    second = rng.integers(0, pool, count)
    joined = rng.random(count) < 0.4
    noise = rng.normal(0.0, 0.01, (count, vectors.shape[1])).astype(np.float32)
    composed = vectors[first] + np.where(joined[:, None], vectors[second], 0.0) + noise
    composed /= np.linalg.norm(composed, axis=1, keepdims=True)
    base = datetime(2023, 1, 1, tzinfo=UTC)
    days = rng.integers(0, 3 * 365, count)
    now = datetime.now(UTC)
    model = configured_model_name()
    for n in range(count):
        kind, text = texts[first[n]]
        if joined[n]:
            text = f"{text} {texts[second[n]][1]}"
        block = (start + n) // 20
        thread = f"conversation-{block}" if kind == "event" or block % 10 < 3 else ""
        yield (
            owner_id, text, kind, "active", Source.BENCHMARK, "", f"s{start + n}", thread,
            base + timedelta(days=int(days[n])), False, 0, composed[n], model, now, now,
        )  # fmt: skip


def _copy(owner_id: int, count: int, texts, vectors, rng, start: int) -> None:
    raw = connection.connection
    register_vector(raw)
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY {MemoryItem._meta.db_table} ({_COLUMNS}) FROM STDIN WITH (FORMAT BINARY)"
        ) as copy,
    ):
        copy.set_types(_TYPES)
        for row in _rows(owner_id, count, texts, vectors, rng, start):
            copy.write_row(row)


def _explain(owner_ids: tuple[int, ...], query: str) -> dict[str, str]:
    scope = sql.Scope(owner_ids, ("active",))
    vector = embed_texts([query])[0]
    plans = {}
    with transaction.atomic(), connection.cursor() as cursor:
        pool, ef_search = settings.MEMORY_SEARCH_CANDIDATES, settings.MEMORY_HNSW_EF_SEARCH
        owner_rows, _ = fulltext.owner_statistics(cursor, scope)
        exact = sql.exact_is_cheaper(cursor, scope, owner_rows=owner_rows, limit=pool)
        sql.vector_candidates(cursor, scope, vector, limit=pool, ef_search=ef_search)  # SET LOCAL
        statement, params = sql.vector_sql(scope, vector, limit=pool, exact=exact)
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
        plans["vector"] = _VECTOR.sub("'[…]'", "\n".join(row[0] for row in cursor.fetchall()))
        plan = fulltext.text_plan(cursor, scope, query)
        if plan is not None:
            statement, params = fulltext.text_sql(scope, plan, limit=pool)
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, params)
            plans["text"] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


def _cleanup(user_ids: list[int]) -> None:
    if not user_ids:
        return
    items = MemoryItem._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {MemoryRevision._meta.db_table} WHERE item_id IN "
            f"(SELECT id FROM {items} WHERE owner_id = ANY(%s))",
            [user_ids],
        )
        cursor.execute(f"DELETE FROM {items} WHERE owner_id = ANY(%s)", [user_ids])
    get_user_model().objects.filter(pk__in=user_ids).delete()
    # Dead rows are left to autovacuum, which a delete this size sets off.


def _insert_sample(owner, sample: int, seed: int, progress) -> dict[str, float]:
    """memory_bulk_create's rate on fresh sentences, and the raw encode rate of the same."""
    fresh = synthetic.sentences(sample, seed=seed)
    started = time.perf_counter()
    embed_texts([text for _, text in fresh])  # model already warm
    encode_per_s = len(fresh) / (time.perf_counter() - started)
    started = time.perf_counter()
    memory_bulk_create(
        owner=owner,
        items=[{"text": t, "kind": k, "source": Source.BENCHMARK} for k, t in fresh],
        actor=Actor.SYSTEM,
    )
    insert_per_s = len(fresh) / (time.perf_counter() - started)
    share = insert_per_s / encode_per_s
    progress(
        f"memory_bulk_create: {insert_per_s:.0f} items/s, embedding included "
        f"({share:.2f} of the raw encode rate, {encode_per_s:.0f}/s)"
    )
    return {
        "insert_per_s": round(insert_per_s, 1),
        "encode_per_s": round(encode_per_s, 1),
        "insert_share_of_encode": round(share, 3),
    }


def _team_account(team_items: int):
    """What a team account is (assistant.teams): an inactive user with no usable
    password that owns the team's memories. memory/ does not import assistant, so the
    bench makes one the same way."""
    if team_items <= 0:
        return None
    account = get_user_model()(username=f"{USER_PREFIX}team-{uuid.uuid4().hex[:8]}")
    account.is_active = False
    account.set_unusable_password()
    account.save()
    return account


def _latency(latencies: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(latencies, 0.5), 2),
        "p95": round(percentile(latencies, 0.95), 2),
        "mean": round(statistics.fmean(latencies), 2),
        "max": round(max(latencies), 2),
        "queries": len(latencies),
    }


def _timed_searches(owner, asked: list[str], team) -> tuple[list[float], list[float]]:
    """Personal-only and personal + team latencies (ms) for the same questions.

    With a team, each question is asked both ways back to back, the order alternating,
    so that both series see the same caches and the same load on the machine."""
    shared = (team.pk,) if team is not None else ()
    for question in asked[:10]:  # warm caches
        memory_search(owner=owner, query=question, limit=10)
        if team is not None:
            memory_search(owner=owner, query=question, limit=10, shared_owner_ids=shared)
    personal: list[float] = []
    with_team: list[float] = []
    for n, question in enumerate(asked):
        order = [(personal, ())]
        if team is not None:
            order.append((with_team, shared))
            if n % 2:
                order.reverse()
        for series, owners in order:
            started = time.perf_counter()
            memory_search(owner=owner, query=question, limit=10, shared_owner_ids=owners)
            series.append((time.perf_counter() - started) * 1000)
    return personal, with_team


def _team_result(owner, team, team_items: int, personal, with_team, query) -> dict:
    explain = _explain((owner.pk, team.pk), query)
    personal_p95 = round(percentile(personal, 0.95), 2)
    team_p95 = round(percentile(with_team, 0.95), 2)
    return {
        "team_items": team_items,
        "latency_ms": _latency(with_team),
        "personal_p95_ms": personal_p95,
        "team_p95_ms": team_p95,
        "delta_ms": round(team_p95 - personal_p95, 2),
        "explain": explain,
        "vector_rows_removed_by_filter": rows_removed_by_filter(explain["vector"]),
        "vector_path": "hnsw" if INDEX_NAME in explain["vector"] else "exact",
    }


def run(
    *,
    per_user: int,
    users: int,
    pool: int,
    sample: int,
    queries: int,
    seed: int,
    team_items: int = 0,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    user_ids: list[int] = []
    deferred = DeferredIndex([])
    result: dict[str, Any] = {"dataset": "synthetic", "users": users, "per_user": per_user}
    try:
        texts = synthetic.sentences(pool, seed=seed)
        started = time.perf_counter()
        vectors = embed_texts([text for _, text in texts])
        seconds = time.perf_counter() - started
        result["pool"] = {"sentences": len(texts), "embed_per_s": round(len(texts) / seconds, 1)}
        progress(f"embedded a pool of {len(texts)} sentences ({len(texts) / seconds:.0f}/s)")

        owners = [
            get_user_model().objects.create_user(
                username=f"{USER_PREFIX}{uuid.uuid4().hex[:8]}-{n}"
            )
            for n in range(users)
        ]
        user_ids = [owner.pk for owner in owners]
        team = _team_account(team_items)
        if team is not None:
            user_ids.append(team.pk)

        result.update(_insert_sample(owners[0], sample, seed + 1000, progress))

        deferred = DeferredIndex(user_ids, report=result.setdefault("hnsw_build", {}))
        deferred.drop_if_safe()
        progress(
            f"HNSW index dropped for the fill: {deferred.dropped} ({deferred.report['reason']})"
        )

        started = time.perf_counter()
        filled = 0
        for index, owner in enumerate(owners):
            remaining = per_user - (2 * sample if index == 0 else 0)
            done = 0
            while done < remaining:
                batch = min(COPY_BATCH, remaining - done)
                with transaction.atomic():
                    _copy(owner.pk, batch, texts, vectors, rng, done)
                done += batch
                filled += batch
                rate = filled / (time.perf_counter() - started)
                progress(f"user {index + 1}/{users}: {done}/{remaining} rows ({rate:.0f} rows/s)")
        done = 0
        while team is not None and done < team_items:
            batch = min(COPY_BATCH, team_items - done)
            with transaction.atomic():
                _copy(team.pk, batch, texts, vectors, rng, done)
            done += batch
            filled += batch
            progress(f"team account: {done}/{team_items} rows")
        fill_s = time.perf_counter() - started
        if deferred.dropped:
            progress(f"building the HNSW index over {filled:,} rows")
            deferred.build()
            progress(f"HNSW index built in {deferred.report['build_seconds']:.0f} s")
        # The same product path once more, now that the index holds the whole table.
        result["insert_at_scale"] = _insert_sample(owners[0], sample, seed + 2000, progress)
        result["bulk_fill"] = {
            "rows": filled,
            "seconds": round(fill_s, 3),
            "rows_per_s": round(filled / fill_s) if fill_s > 0 else 0,
        }
        with connection.cursor() as cursor:
            # What autovacuum would do soon after a bulk load: GIN's pending list merged,
            # visibility map and planner statistics up to date.
            table = MemoryItem._meta.db_table
            cursor.execute(
                f"ANALYZE {table}" if connection.in_atomic_block else f"VACUUM ANALYZE {table}"
            )
            cursor.execute("SELECT count(*) FROM " + MemoryItem._meta.db_table)
            result["table_rows"] = cursor.fetchone()[0]
            cursor.execute(
                "SELECT current_setting('shared_buffers'), "
                "pg_size_pretty(pg_relation_size(%s)), "
                "pg_size_pretty(pg_relation_size('memory_owner_search_gin')), "
                "pg_size_pretty(pg_relation_size(%s))",
                [INDEX_NAME, MemoryItem._meta.db_table],
            )
            shared, hnsw, gin, heap = cursor.fetchone()
            result["postgres"] = {
                "shared_buffers": shared,
                "hnsw_index": hnsw,
                "gin_index": gin,
                "table": heap,
                "candidates": settings.MEMORY_SEARCH_CANDIDATES,
                "hnsw_ef_search": settings.MEMORY_HNSW_EF_SEARCH,
            }

        asked = synthetic.questions(queries, seed=seed)
        latencies, with_team = _timed_searches(owners[0], asked, team)
        result["latency_ms"] = _latency(latencies)
        result["explain"] = _explain((owners[0].pk,), asked[0])
        result["explain_query"] = asked[0]
        if team is not None:
            result["team"] = _team_result(
                owners[0], team, team_items, latencies, with_team, asked[0]
            )
        removed = rows_removed_by_filter(result["explain"]["vector"])
        result["vector_rows_removed_by_filter"] = removed
        path = "hnsw" if INDEX_NAME in result["explain"]["vector"] else "exact"
        result["vector_path"] = path
        return result
    finally:
        try:
            progress("cleaning up the benchmark users")
            _cleanup(user_ids)
        finally:
            if deferred.dropped:  # a failure or Ctrl-C before the build: on the emptied table
                progress("recreating the HNSW index")
                deferred.build()
        deferred.reset()


def print_report(console: Console, result: dict[str, Any]) -> None:
    table = Table(title="Memory at scale")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("rows in table", f"{result['table_rows']:,}")
    table.add_row("users x per user", f"{result['users']} x {result['per_user']:,}")
    table.add_row("insert, memory_bulk_create (embedding incl.)", f"{result['insert_per_s']}/s")
    table.add_row("pool embedding", f"{result['pool']['embed_per_s']}/s")
    fill = result["bulk_fill"]
    table.add_row("raw encode, same sentences", f"{result['encode_per_s']}/s")
    table.add_row("insert share of the encode rate", f"{result['insert_share_of_encode']:.2f}")
    later = result["insert_at_scale"]
    table.add_row(
        "the same after the fill (index over all rows)",
        f"{later['insert_per_s']}/s, {later['insert_share_of_encode']:.2f}",
    )
    table.add_row("bulk fill (COPY, reused vectors)", f"{fill['rows_per_s']}/s")
    build = result["hnsw_build"]
    if "build_seconds" in build:
        built = f"{build['build_seconds']:.1f} s, {build['size']}"
        table.add_row("HNSW build after the fill", built)
    else:
        table.add_row("HNSW build after the fill", "not dropped: " + build["reason"])
    latency = result["latency_ms"]
    table.add_row("memory_search p50", f"{latency['p50']} ms")
    table.add_row("memory_search p95", f"{latency['p95']} ms")
    postgres = result["postgres"]
    table.add_row(
        "shared_buffers / HNSW index", f"{postgres['shared_buffers']} / {postgres['hnsw_index']}"
    )
    table.add_row("vector rows removed by the filter", str(result["vector_rows_removed_by_filter"]))
    team = result.get("team")
    if team:
        table.add_row(
            f"memory_search p95, + a team's {team['team_items']:,}",
            f"{team['team_p95_ms']} ms ({team['delta_ms']:+} ms)",
        )
        table.add_row(
            "team: vector rows removed by the filter", str(team["vector_rows_removed_by_filter"])
        )
    console.print(table)
    console.print(
        f"Only {result['pool']['sentences']} distinct sentences were embedded for real; "
        "the bulk rows reuse and compose their vectors (see memory/bench/scale.py)."
    )
    plans = [("", result["explain"])]
    if team:
        plans.append((", with the team", team["explain"]))
    for label, explain in plans:
        for name, plan in explain.items():
            query = result["explain_query"]
            console.print(f"[bold]EXPLAIN ANALYZE ({name}{label}) for {query!r}[/bold]")
            console.print(plan, markup=False, highlight=False)
