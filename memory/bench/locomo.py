"""LoCoMo evidence recall, following shared/bench/README.md.

Each conversation becomes a throwaway user's memory; every turn is stored through
memory_bulk_create (the ingest path the product uses) and each question is answered by
memory_search with the question text alone. Evidence recall@k is the share of a
question's gold dia_ids found in the provenance (source_ref) of the top k items.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model

from memory.bench.stats import percentile
from memory.models import Actor, Kind, Source
from memory.search import memory_search
from memory.services import memory_bulk_create

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
_SESSION = re.compile(r"session_(\d+)")
_ID_PIECE = re.compile(r"D?:?(\d+):0*(\d+)")
USER_PREFIX = "bench-locomo-"


@dataclass
class Question:
    text: str
    category: int
    evidence: list[str]


@dataclass
class Conversation:
    sample_id: str
    turns: list[dict[str, Any]]  # memory specs, in order
    questions: list[Question] = field(default_factory=list)


def parse_session_date(value: str) -> datetime:
    """'1:56 pm on 8 May, 2023' → an aware datetime (UTC)."""
    return datetime.strptime(value.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def normalise_evidence(raw: list[str], known: set[str]) -> list[str]:
    """'D:11:26' → 'D11:26', 'D30:05' → 'D30:5', 'D8:6; D9:17' → both; unknown ids dropped."""
    found = []
    for entry in raw:
        for session, turn in _ID_PIECE.findall(str(entry)):
            dia_id = f"D{int(session)}:{int(turn)}"
            if dia_id in known and dia_id not in found:
                found.append(dia_id)
    return found


def turn_text(turn: dict[str, Any]) -> str:
    text = f'{turn["speaker"]} said, "{turn["text"]}"'
    if turn.get("blip_caption"):
        text += f" and shared {turn['blip_caption']}"
    return text


def load(path: Path) -> list[Conversation]:
    conversations = []
    for sample in json.loads(Path(path).read_text()):
        conv = sample["conversation"]
        sessions = sorted((int(m.group(1)), key) for key in conv if (m := _SESSION.fullmatch(key)))
        turns = []
        for number, key in sessions:
            when = parse_session_date(conv[f"{key}_date_time"])
            for turn in conv[key]:
                turns.append(
                    {
                        "text": turn_text(turn),
                        "kind": Kind.EVENT,
                        "source": Source.BENCHMARK,
                        "source_ref": turn["dia_id"],
                        "thread_key": f"{sample['sample_id']}/session_{number}",
                        "occurred_at": when,
                    }
                )
        known = {turn["source_ref"] for turn in turns}
        questions = []
        for qa in sample["qa"]:
            if qa.get("category") not in CATEGORIES:
                continue
            evidence = normalise_evidence(qa.get("evidence") or [], known)
            if evidence:
                questions.append(Question(qa["question"], qa["category"], evidence))
        conversations.append(Conversation(sample["sample_id"], turns, questions))
    return conversations


def run(
    conversations: list[Conversation],
    ks: list[int],
    *,
    progress: Callable[[str], None] = lambda message: None,
) -> dict[str, Any]:
    """Ingest, ask, score; the throwaway users are deleted afterwards, even on Ctrl-C."""
    user_model = get_user_model()
    users = []
    hits: dict[int, list[dict[int, float]]] = defaultdict(list)
    latencies: list[float] = []
    ingest_s = 0.0
    depth = max(ks)
    try:
        for conv in conversations:
            user = user_model.objects.create_user(
                username=f"{USER_PREFIX}{conv.sample_id}-{uuid.uuid4().hex[:8]}"
            )
            users.append(user)
            started = time.perf_counter()
            memory_bulk_create(owner=user, items=conv.turns, actor=Actor.SYSTEM, reason="benchmark")
            ingest_s += time.perf_counter() - started
            progress(f"{conv.sample_id}: {len(conv.turns)} turns stored")
            for question in conv.questions:
                started = time.perf_counter()
                results = memory_search(owner=user, query=question.text, limit=depth)
                latencies.append((time.perf_counter() - started) * 1000)
                refs = [result.item.source_ref for result in results]
                gold = set(question.evidence)
                hits[question.category].append(
                    {k: len(gold & set(refs[:k])) / len(gold) for k in ks}
                )
    finally:
        for user in users:
            user.delete()
    return _summary(conversations, ks, hits, latencies, ingest_s)


def _summary(conversations, ks, hits, latencies, ingest_s) -> dict[str, Any]:
    def recall(rows: list[dict[int, float]]) -> dict[str, float]:
        return {f"recall@{k}": round(statistics.fmean(r[k] for r in rows), 4) for k in ks}

    every = [row for rows in hits.values() for row in rows]
    turns = sum(len(conv.turns) for conv in conversations)
    return {
        "dataset": "locomo",
        "conversations": len(conversations),
        "turns": turns,
        "questions": len(every),
        "overall": recall(every) if every else {},
        "by_category": {
            f"{number} {name}": {"questions": len(hits[number]), **recall(hits[number])}
            for number, name in CATEGORIES.items()
            if hits[number]
        },
        "latency_ms": {
            "p50": round(percentile(latencies, 0.50), 2),
            "p95": round(percentile(latencies, 0.95), 2),
            "max": round(max(latencies, default=0.0), 2),
        },
        "ingest": {"seconds": round(ingest_s, 1), "turns_per_s": round(turns / ingest_s, 1)},
    }
