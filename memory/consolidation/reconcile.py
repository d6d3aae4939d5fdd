"""Deciding what each extracted candidate does to memory: add, supersede, or skip.

Deterministic first, the model only in between (cosine similarity to the nearest of the
owner's memories):
- same text once normalised, or similarity >= MEMORY_DUPLICATE_SIMILARITY: skip;
- similarity >= MEMORY_RELATED_SIMILARITY to a live memory: the model says whether the
  candidate is the "same", "updates" it (supersede) or is "different" (add);
- otherwise: add.
Archived memories count as duplicates (what the user rejected is not proposed again)
but are never superseded. Nothing here writes; memory/consolidation/save.py does.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection, transaction

from inference import BackendConfig, Usage
from inference.structured import StructuredOutputError
from inference.structured_ask import ask_json
from memory.consolidation.extract import EXTRACTED_KINDS, Candidate, normalised
from memory.embedding import embed_texts
from memory.models import Kind, MemoryItem, Status
from memory.search import fulltext, sql

ADD, SUPERSEDE, SKIP = "add", "supersede", "skip"
RELATIONS = ("same", "updates", "different")
JUDGE_MAX_TOKENS = 200

JUDGE_SYSTEM = (
    "You compare two notes an assistant keeps about its user. Reply with JSON only: "
    '{"relation": "same"} when the new note adds nothing to the old one; '
    '{"relation": "updates"} when the new note replaces or corrects the old one (a changed '
    "preference, a moved date, a new address); "
    '{"relation": "different"} when both can be true at once because they are about '
    "different things."
)
JUDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"relation": {"type": "string", "enum": list(RELATIONS)}},
    "required": ["relation"],
    "additionalProperties": False,
}


@dataclass
class Decision:
    candidate: Candidate
    action: str  # add / supersede / skip
    why: str
    existing: MemoryItem | None = None  # the memory it duplicates or supersedes
    similarity: float | None = None


@dataclass
class Reconciliation:
    decisions: list[Decision] = field(default_factory=list)
    parse_failures: int = 0
    problems: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: list[Usage] = field(default_factory=list)  # each judge call's reported tokens

    def count(self, action: str) -> int:
        return sum(1 for decision in self.decisions if decision.action == action)


def _nearest(owner, vector: np.ndarray) -> tuple[MemoryItem, float] | None:
    """The owner's closest comparable memory and its cosine similarity (through the
    retriever's vector index, so it stays fast at any size)."""
    scope = sql.Scope((owner.pk,), tuple(Status.values), (*EXTRACTED_KINDS, Kind.PROFILE))
    with transaction.atomic(), connection.cursor() as cursor:
        owner_rows, _ = fulltext.owner_statistics(cursor, scope)
        hits = sql.vector_candidates(
            cursor,
            scope,
            vector,
            limit=1,
            ef_search=settings.MEMORY_HNSW_EF_SEARCH,
            exact=sql.exact_is_cheaper(cursor, scope, owner_rows=owner_rows, limit=1),
        )
    if not hits:
        return None
    item_id, similarity, _facts = hits[0]
    best = MemoryItem.objects.owned_by(owner).defer("embedding", "search").filter(pk=item_id)
    item = best.first()
    return (item, similarity) if item is not None else None


def _judge(config: BackendConfig, old: str, new: str):
    def validate(value: Any) -> str:
        relation = str(value.get("relation", "") if isinstance(value, dict) else "").lower()
        if relation not in RELATIONS:
            raise StructuredOutputError('expected {"relation": "same|updates|different"}.')
        return relation

    return ask_json(
        dataclasses.replace(config, max_tokens=JUDGE_MAX_TOKENS),
        [
            {"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": f"Old note: {old}\nNew note: {new}"},
        ],
        schema_name="relation",
        schema=JUDGE_SCHEMA,
        validate=validate,
    )


def _decide_by_model(
    result: Reconciliation, config: BackendConfig, candidate: Candidate, existing, similarity
) -> Decision:
    answer = _judge(config, existing.text, candidate.text)
    result.prompt_tokens += answer.prompt_tokens
    result.completion_tokens += answer.completion_tokens
    result.calls.extend(answer.calls)
    result.parse_failures += answer.failures
    relation = answer.value
    if relation is None:
        result.problems.append(
            f"Could not tell whether “{candidate.text[:60]}” updates {existing.tag} "
            f"({answer.error}); kept it as a new memory."
        )
        relation = "different"
    if relation == "same":
        return Decision(candidate, SKIP, f"the model judged it the same as {existing.tag}",
                        existing, similarity)  # fmt: skip
    if relation == "updates":
        return Decision(candidate, SUPERSEDE, f"the model judged it an update of {existing.tag}",
                        existing, similarity)  # fmt: skip
    return Decision(candidate, ADD, f"the model judged it different from {existing.tag}",
                    existing, similarity)  # fmt: skip


def candidates_reconcile(
    *, owner, candidates: list[Candidate], config: BackendConfig
) -> Reconciliation:
    result = Reconciliation()
    if not candidates:
        return result
    duplicate = settings.MEMORY_DUPLICATE_SIMILARITY
    related = settings.MEMORY_RELATED_SIMILARITY
    vectors = embed_texts([candidate.text for candidate in candidates])
    kept: list[tuple[Candidate, np.ndarray]] = []
    for candidate, vector in zip(candidates, vectors, strict=True):
        twin = next(
            (c for c, v in kept if float(np.dot(v, vector)) >= duplicate
             or normalised(c.text) == normalised(candidate.text)),
            None,
        )  # fmt: skip
        if twin is not None:
            result.decisions.append(Decision(candidate, SKIP, "repeats another candidate"))
            continue
        nearest = _nearest(owner, vector)
        existing, similarity = nearest if nearest else (None, 0.0)
        if existing is None or similarity < related:
            decision = Decision(candidate, ADD, "nothing similar is remembered")
        elif similarity >= duplicate or normalised(existing.text) == normalised(candidate.text):
            decision = Decision(candidate, SKIP, f"duplicate of {existing.tag}", existing,
                                similarity)  # fmt: skip
        elif existing.status == Status.ARCHIVED:
            decision = Decision(candidate, ADD, f"only an archived memory is similar "
                                f"({existing.tag})", None, similarity)  # fmt: skip
        else:
            decision = _decide_by_model(result, config, candidate, existing, similarity)
        result.decisions.append(decision)
        if decision.action != SKIP:
            kept.append((candidate, vector))
    return result
