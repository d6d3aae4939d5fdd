"""The one percentile every benchmark reports (bench_chat, bench_pipeline, bench_memory).

Linear interpolation between the two nearest ranks, as numpy's default and
`statistics.quantiles(method="inclusive")`: p50 of [1, 2, 3, 4] is 2.5.
"""

from __future__ import annotations

from collections.abc import Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) of `values`; 0.0 when there are none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
