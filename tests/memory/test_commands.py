"""memory_reembed and bench_memory, on small data."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection

from memory.bench.bulk_index import index_definition
from memory.models import MemoryItem
from memory.services import memory_bulk_create, memory_forget_permanently

pytestmark = pytest.mark.django_db


def test_reembed_fixes_stale_vectors_and_resumes(owner):
    items = memory_bulk_create(
        owner=owner, items=[{"text": f"I own {n} bicycles."} for n in range(5)], actor="user"
    )
    memory_forget_permanently(item=items[4], actor="user")
    MemoryItem.objects.filter(pk__in=[items[0].pk, items[1].pk]).update(
        embedding_model="old-model", embedding=[0.0] * 384
    )
    MemoryItem.objects.filter(pk=items[2].pk).update(embedding=None)
    call_command("memory_reembed", "--batch-size", "2")
    fresh = {item.pk: item for item in MemoryItem.objects.owned_by(owner)}
    for item in items[:4]:
        assert fresh[item.pk].embedding_model == "all-MiniLM-L6-v2"
        assert fresh[item.pk].embedding is not None and abs(fresh[item.pk].embedding[0]) > 0
    assert fresh[items[4].pk].embedding is None  # forgotten for good stays erased
    revisions = sum(item.revisions.count() for item in fresh.values())

    out = []
    call_command("memory_reembed", stdout=type("W", (), {"write": lambda _, s: out.append(s)})())
    assert "Nothing to re-embed" in "".join(out)
    call_command("memory_reembed", "--all", "--start-after", str(items[2].pk))
    assert sum(item.revisions.count() for item in MemoryItem.objects.owned_by(owner)) == revisions


LOCOMO = [
    {
        "sample_id": "tiny-1",
        "conversation": {
            "speaker_a": "Ana",
            "speaker_b": "Ben",
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a grey cat called Pixel."},
                {
                    "speaker": "Ben",
                    "dia_id": "D1:2",
                    "text": "Lovely! I just ran my first marathon.",
                },
            ],
            "session_2_date_time": "9:00 am on 2 June, 2023",
            "session_2": [
                {
                    "speaker": "Ana",
                    "dia_id": "D2:1",
                    "text": "I started pottery classes.",
                    "blip_caption": "a photo of a bowl",
                },
                {"speaker": "Ben", "dia_id": "D2:2", "text": "I'm training for a triathlon now."},
            ],
        },
        "qa": [
            {
                "question": "What is the name of Ana's cat?",
                "answer": "Pixel",
                "evidence": ["D1:1"],
                "category": 4,
            },
            {
                "question": "When did Ana start pottery?",
                "answer": "June 2023",
                "evidence": ["D:2:1"],
                "category": 2,
            },
            {
                "question": "What sports does Ben do?",
                "answer": "running",
                "evidence": ["D1:2", "D2:2"],
                "category": 1,
            },
            {
                "question": "What is Ben's dog called?",
                "answer": "n/a",
                "evidence": [],
                "category": 5,
            },
            {"question": "Broken evidence", "answer": "-", "evidence": ["D9:9"], "category": 4},
        ],
    }
]


def test_bench_locomo_writes_figures_and_cleans_up(tmp_path):
    data = tmp_path / "locomo.json"
    data.write_text(json.dumps(LOCOMO))
    out = tmp_path / "result.json"
    call_command("bench_memory", "locomo", "--data", str(data), "--k", "1,3", "--json", str(out))
    result = json.loads(out.read_text())
    assert result["dataset"] == "locomo" and result["questions"] == 3
    assert result["overall"]["recall@3"] == 1.0
    assert set(result["by_category"]) == {"1 multi-hop", "2 temporal", "4 single-hop"}
    assert set(result["latency_ms"]) >= {"p50", "p95"}
    assert not get_user_model().objects.filter(username__startswith="bench-").exists()
    assert not MemoryItem.objects.exists()


def test_bench_scale_runs_small_and_cleans_up(tmp_path):
    out = tmp_path / "scale.json"
    call_command(
        "bench_memory", "scale", "--per-user", "60", "--users", "2", "--pool", "20",
        "--sample", "10", "--queries", "5", "--json", str(out),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["table_rows"] == 120 and result["insert_per_s"] > 0
    assert result["latency_ms"]["queries"] == 5
    assert "vector" in result["explain"] and "text" in result["explain"]
    assert result["insert_share_of_encode"] > 0 and result["encode_per_s"] > 0
    assert result["insert_at_scale"]["insert_share_of_encode"] > 0
    build = result["hnsw_build"]
    assert build["filled_before_index"] is True and build["build_seconds"] >= 0
    assert build["size"] and build["maintenance_work_mem"]
    assert "vector_rows_removed_by_filter" in result
    assert not get_user_model().objects.filter(username__startswith="bench-").exists()
    assert not MemoryItem.objects.exists()
    assert _hnsw_definition() == HNSW_DEFINITION


HNSW_DEFINITION = (
    "CREATE INDEX memory_embedding_halfvec_hnsw ON public.memory_memoryitem "
    "USING hnsw (((embedding)::halfvec(384)) halfvec_cosine_ops) "
    "WITH (m='16', ef_construction='64')"
)


def _hnsw_definition():
    with connection.cursor() as cursor:
        return index_definition(cursor)


def test_bench_scale_keeps_the_index_when_others_have_memories(tmp_path, owner):
    """A shared database: the fill runs with the index in place, and says why."""
    (mine,) = memory_bulk_create(owner=owner, items=[{"text": "I keep bees."}], actor="user")
    out = tmp_path / "scale.json"
    call_command(
        "bench_memory", "scale", "--per-user", "20", "--users", "1", "--pool", "10",
        "--sample", "5", "--queries", "2", "--json", str(out),
    )  # fmt: skip
    build = json.loads(out.read_text())["hnsw_build"]
    assert build["filled_before_index"] is False and "other users" in build["reason"]
    assert "build_seconds" not in build
    assert list(MemoryItem.objects.values_list("pk", flat=True)) == [mine.pk]
    assert _hnsw_definition() == HNSW_DEFINITION


def test_bench_scale_recreates_the_index_after_a_failed_fill(tmp_path, monkeypatch):
    from memory.bench import scale

    def broken(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(scale, "_copy", broken)
    with pytest.raises(KeyboardInterrupt):
        call_command(
            "bench_memory", "scale", "--per-user", "20", "--users", "1", "--pool", "10",
            "--sample", "5", "--queries", "2",
        )  # fmt: skip
    assert not MemoryItem.objects.exists()
    assert _hnsw_definition() == HNSW_DEFINITION
