"""One percentile for every benchmark report (bench_chat used to round to a rank)."""

from __future__ import annotations

import statistics

from assistant.management.commands.bench_chat import _stats
from memory.bench import locomo, scale
from memory.bench.stats import percentile


def test_percentile_interpolates_between_ranks() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0.5) == 2.5
    assert percentile(values, 0.0) == 1.0 and percentile(values, 1.0) == 4.0
    assert percentile([], 0.95) == 0.0
    expected = statistics.quantiles(values, n=20, method="inclusive")[18]
    assert abs(percentile(values, 0.95) - expected) < 1e-9


def test_every_bench_report_uses_the_same_percentile() -> None:
    values = [1.0, 2.0, 3.0, 4.0]
    assert _stats(values)["p50"] == 2.5  # bench_chat and bench_pipeline
    assert locomo.percentile is percentile
    assert scale.percentile is percentile
