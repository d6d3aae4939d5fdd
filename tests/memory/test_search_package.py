"""memory.search owns the retriever entry point and the one list of background signals."""

from __future__ import annotations

from pathlib import Path

import pytest

import assistant.models
import assistant.services.context
import memory.bench.locomo
import memory.bench.scale
import memory.search
import memory.selectors
from assistant.models import ContextItem
from memory.search import BACKGROUND_SIGNALS, RetrievedMemory, memory_search
from memory.search.retriever import memory_search as retriever_memory_search
from memory.selectors import signal_labels


def test_memory_search_is_exported_by_memory_search_and_used_by_every_caller():
    assert memory_search is retriever_memory_search
    assert RetrievedMemory.__module__ == "memory.search.retriever"
    # The chat, the memory page and both benchmarks call the same function.
    for caller in (assistant.services.context, memory.selectors, memory.bench.locomo,
                   memory.bench.scale):  # fmt: skip
        assert caller.memory_search is memory_search, caller.__name__
    assert not (Path(memory.search.__file__).parents[1] / "retrieval.py").exists()


def test_one_constant_for_the_background_signals():
    assert assistant.models.BACKGROUND_SIGNALS is memory.search.BACKGROUND_SIGNALS
    assert memory.selectors.BACKGROUND_SIGNALS is BACKGROUND_SIGNALS
    assert not hasattr(ContextItem, "BACKGROUND_SIGNALS")
    assert not hasattr(memory.selectors, "HIDDEN_SIGNALS")
    assert {"prior", "recency"} == BACKGROUND_SIGNALS


@pytest.mark.parametrize("background", sorted(BACKGROUND_SIGNALS))
def test_the_inspector_and_the_memory_page_leave_out_the_same_signals(background):
    row = ContextItem(signals=[background, "vector", "text"])
    assert row.found_by == ["vector", "text"]
    assert signal_labels({background: 0.2, "vector": 0.1}) == ["meaning"]
    # Only background signals: the inspector still says something.
    assert ContextItem(signals=[background]).found_by == [background]
    assert signal_labels([background]) == []
