"""bench_chat's figures and its JSON report, from timings and CPU counters (pure).

Method (see bench_chat's docstring for how the counters are taken):

- cpu_ms_per_turn = server CPU during the run / turns started: everything the server
  did for those turns (the stream request, the claim, the prompt, the backend call, the
  relay, the progress saves, the final frame), all in.
- cpu_us_per_token: two runs separate what a turn costs from what a token costs. A
  calibration run, one at a time with 1-token answers, gives the fixed CPU of a turn
  (F, its one token included). A run of T turns that relayed N tokens in all used C:
      cpu_us_per_token = (C - T * F) / (N - T)
  i.e. the slope: what each token beyond a turn's first adds. At 10 tokens/s this also
  carries the time-driven work of a long stream (progress saves, pings), which is a cost
  of streaming tokens at that rate.
- cpu_ms_pre_backend (one at a time only): per turn, server CPU between the client's
  request and the backend reading the model request, averaged over the turns.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

from memory.bench.stats import percentile


@dataclass(frozen=True)
class CpuWindow:
    """CPU seconds used during one run, and how long it lasted."""

    server_s: float
    wall_s: float
    harness_s: float
    db_s: float | None = None


def stats(values: list[float]) -> dict:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "mean": 0.0}
    return {
        "p50": round(percentile(values, 0.5), 2),
        "p95": round(percentile(values, 0.95), 2),
        "max": round(max(values), 2),
        "mean": round(statistics.fmean(values), 2),
    }


def per_turn_ms(cpu_s: float | None, turns: int) -> float | None:
    if cpu_s is None or turns <= 0:
        return None
    return round(cpu_s / turns * 1000, 2)


def per_token_us(
    *, cpu_s: float, turns: int, tokens: int, fixed_turn_s: float | None, fixed_tokens: int = 1
) -> float | None:
    """(cpu_s - turns * fixed_turn_s) / (tokens - turns * fixed_tokens), in µs: the CPU
    each token adds beyond the fixed cost of a turn that relayed `fixed_tokens`. None
    when there is no calibration or no token beyond the fixed ones."""
    extra = tokens - turns * fixed_tokens
    if fixed_turn_s is None or turns <= 0 or extra <= 0:
        return None
    return round((cpu_s - turns * fixed_turn_s) / extra * 1e6, 1)


def pre_backend_cpu_ms(samples: list[float]) -> float | None:
    """The mean of per-turn server CPU seconds before the backend call, in ms."""
    if not samples:
        return None
    return round(statistics.fmean(samples) * 1000, 2)


def run_row(
    *,
    path: str,
    concurrency: int,
    answer_tokens: int,
    turns: int,
    latency: dict,
    window: CpuWindow,
    tokens: int,
    frames: int,
    fixed_turn_s: float | None,
    pre_backend_cpu: list[float] | None = None,
) -> dict:
    """One entry of the report's "runs". `latency` is the run's timing summary
    (requests, pre_backend_ms, first_token_relay_ms, added_before_first_token_ms)."""
    added = latency["added_before_first_token_ms"]
    wall = window.wall_s or float("nan")
    return {
        "concurrency": concurrency,
        "path": path,
        "requests": latency["requests"],
        "errors": turns - latency["requests"],
        "transport_errors": latency.get("transport_errors", {}),
        "p50_added_ms": added["p50"],
        "p95_added_ms": added["p95"],
        "cpu_ms_per_turn": per_turn_ms(window.server_s, turns),
        "cpu_us_per_token": per_token_us(
            cpu_s=window.server_s, turns=turns, tokens=tokens, fixed_turn_s=fixed_turn_s
        ),
        "cpu_ms_pre_backend": pre_backend_cpu_ms(pre_backend_cpu or []),
        "db_cpu_ms_per_turn": per_turn_ms(window.db_s, turns),
        "turns": turns,
        "answer_tokens": answer_tokens,
        "tokens": tokens,
        "content_frames": frames,
        "server_cpu_s": round(window.server_s, 3),
        "wall_s": round(window.wall_s, 3),
        "server_core_share": round(window.server_s / wall, 3),
        "harness_core_share": round(window.harness_s / wall, 3),
        **{key: latency[key] for key in LATENCY_KEYS},
    }


LATENCY_KEYS = ("pre_backend_ms", "first_token_relay_ms", "added_before_first_token_ms")


def result_key(path: str, concurrency: int) -> str:
    """The row's key in "results" (the report's shape before issue 14)."""
    return (
        f"concurrency_{concurrency}" if path == "browser" else f"{path}_concurrency_{concurrency}"
    )


def report(*, machine: dict, settings: dict, calibration: list[dict], runs: list[dict]) -> dict:
    """The JSON report: "runs" (the issue's shape), "calibration" (the 1-token runs that
    give the fixed cost of a turn), and "results" keyed as before issue 14."""
    return {
        "benchmark": "chat_overhead",
        "machine": machine,
        "settings": settings,
        "calibration": calibration,
        "runs": runs,
        "results": {result_key(row["path"], row["concurrency"]): row for row in runs},
    }
