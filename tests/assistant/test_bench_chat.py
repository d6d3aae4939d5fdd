"""bench_chat's pure parts: reading another process' CPU, the per-turn and per-token
arithmetic, and the JSON report's shape (the benchmark itself is run by hand)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.bench import chat_drive, chat_figures, cpu

# A real line's shape (proc(5)); the name holds spaces and parentheses.
STAT = (
    "4242 (python (x) y) S 4000 4242 4000 0 -1 4194304 9000 0 3 0 "
    "{utime} {stime} {cutime} {cstime} 20 0 11 0 123456 900000000 30000"
)


def stat_line(pid: int, ppid: int, utime=0, stime=0, cutime=0, cstime=0) -> str:
    line = STAT.format(utime=utime, stime=stime, cutime=cutime, cstime=cstime)
    return line.replace("4242 (", f"{pid} (", 1).replace(") S 4000", f") S {ppid}", 1)


def fake_proc(tmp_path: Path, processes: dict[int, str]) -> Path:
    for pid, line in processes.items():
        (tmp_path / str(pid)).mkdir(parents=True, exist_ok=True)
        (tmp_path / str(pid) / "stat").write_text(line + "\n")
    (tmp_path / "self").mkdir(exist_ok=True)  # not a pid: skipped
    return tmp_path


def test_proc_stat_fields_are_read_after_the_last_parenthesis() -> None:
    stat = cpu.parse_proc_stat(STAT.format(utime=150, stime=30, cutime=7, cstime=3))
    assert (stat.pid, stat.ppid) == (4242, 4000)
    assert (stat.utime, stat.stime, stat.cutime, stat.cstime) == (150, 30, 7, 3)
    assert stat.ticks == 190
    for broken in ["", "4242 python S 1", "4242 (python) S 1 2 3"]:
        with pytest.raises(ValueError):
            cpu.parse_proc_stat(broken)


def test_tree_cpu_sums_the_root_and_its_descendants(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            10: stat_line(10, 1, utime=100, stime=20, cutime=30, cstime=0),  # reaped: cutime
            11: stat_line(11, 10, utime=50, stime=5),
            12: stat_line(12, 11, utime=10),  # a grandchild
            13: stat_line(13, 1, utime=999),  # not in the tree
        },
    )
    tree = cpu.TreeCpu(10, proc=proc)
    assert tree.seconds() == 150 / cpu.TICKS_PER_S  # the root only until refresh()
    assert sorted(tree.refresh()) == [10, 11, 12]
    assert tree.seconds() == 215 / cpu.TICKS_PER_S
    (proc / "12" / "stat").unlink()  # a process that went away between samples
    assert tree.seconds() == 205 / cpu.TICKS_PER_S


def test_descendants_survive_cycles_and_unknown_roots() -> None:
    stats = [cpu.ProcStat(pid, ppid, 0, 0, 0, 0) for pid, ppid in [(1, 2), (2, 1), (3, 2)]]
    assert sorted(cpu.descendants(1, stats)) == [1, 2, 3]
    assert cpu.descendants(99, stats) == [99]


def test_tree_cpu_reads_a_real_process() -> None:
    child = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
         "while time.process_time() < end: pass\ninput()"],
        stdin=subprocess.PIPE,
    )  # fmt: skip
    try:
        tree = cpu.TreeCpu(child.pid)
        deadline = 50
        while tree.sample() < 0.25 and deadline:
            deadline -= 1
            subprocess.run(["sleep", "0.1"], check=True)
        assert 0.25 <= tree.sample() < 5
        assert cpu.pin_tree(child.pid, set(os.sched_getaffinity(0))) >= 1
        assert cpu.affinity(child.pid) == sorted(os.sched_getaffinity(0))
    finally:
        child.kill()
        child.wait()
    assert cpu.read_stat(child.pid) is None


def test_wait_idle_returns_at_the_first_quiet_window() -> None:
    samples = iter([0.0, 0.5, 1.0, 1.01, 1.02])  # busy, busy, then 1% of a core
    tree = cpu.TreeCpu(1)
    tree.sample = lambda: next(samples)  # type: ignore[method-assign]
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    start, waited = tree.wait_idle(clock=lambda: now[0], sleep=sleep)
    assert (start, waited) == (1.0, 3.0)

    tree.sample = lambda: now[0] * 0.5  # type: ignore[method-assign]  # never quiet
    with pytest.raises(TimeoutError, match="50% of a core"):
        tree.wait_idle(timeout_s=5, clock=lambda: now[0], sleep=sleep)


def test_cpu_lists_are_read_as_taskset_writes_them() -> None:
    assert cpu.parse_cpus("0") == {0}
    assert cpu.parse_cpus("0,2") == {0, 2}
    assert cpu.parse_cpus(" 0-2, 5 ") == {0, 1, 2, 5}
    for bad in ["", ",", "a", "3-1", "-1", "1-"]:
        with pytest.raises(ValueError):
            cpu.parse_cpus(bad)


def test_per_token_cpu_is_the_slope_beyond_the_fixed_cost_of_a_turn() -> None:
    # 100 turns of 12 tokens used 2.0 s; a 1-token turn costs 15 ms: 0.5 s for 1,100 tokens.
    us = chat_figures.per_token_us(cpu_s=2.0, turns=100, tokens=1200, fixed_turn_s=0.015)
    assert us == pytest.approx(454.5, abs=0.1)
    assert chat_figures.per_turn_ms(2.0, 100) == 20.0
    # No calibration, or no token beyond each turn's first: no slope to give.
    assert chat_figures.per_token_us(cpu_s=2.0, turns=100, tokens=1200, fixed_turn_s=None) is None
    assert chat_figures.per_token_us(cpu_s=2.0, turns=100, tokens=100, fixed_turn_s=0.02) is None
    assert chat_figures.per_turn_ms(None, 100) is None and chat_figures.per_turn_ms(1.0, 0) is None
    assert chat_figures.pre_backend_cpu_ms([0.02, 0.03]) == 25.0
    assert chat_figures.pre_backend_cpu_ms([]) is None


class Recorded(dict):
    """A backend record: indexing reads the body, as scripted_backend's RecordedRequest."""

    def __init__(self, text: str, arrived_ns: int, first_token_ns: int | None) -> None:
        super().__init__(
            messages=[{"role": "system", "content": "s"}, {"role": "user", "content": text}]
        )
        self.arrived_ns = arrived_ns
        self.first_token_ns = first_token_ns


def test_latency_and_pre_backend_cpu_are_matched_by_message_text() -> None:
    ms = 1_000_000
    timings = {
        "a": {"sent_ns": 0, "first_frame_ns": 30 * ms, "cpu_sent_s": 1.0, "frames": 3},
        "b": {
            "sent_ns": 100 * ms,
            "first_frame_ns": None,
            "cpu_sent_s": 2.0,
            "frames": 0,
            "error": "ReadError",
        },
        "c": {"sent_ns": 200 * ms, "first_frame_ns": 250 * ms, "cpu_sent_s": 3.0, "frames": 1},
    }
    requests = [Recorded("a", 20 * ms, 28 * ms), Recorded("b", 120 * ms, None),
                Recorded("c", 240 * ms, 245 * ms)]  # fmt: skip
    latency = chat_drive.summarise(timings, requests, 1, chat_figures.stats)
    assert latency["requests"] == 2  # "b" never got a token
    assert latency["transport_errors"] == {"ReadError": 1}
    assert latency["pre_backend_ms"]["max"] == 40.0
    assert latency["added_before_first_token_ms"]["p50"] == 33.5  # (20 + 2 and 40 + 5)
    marks = {"a": 1.02, "c": 3.04}
    assert chat_drive.pre_backend_cpu(timings, marks) == pytest.approx([0.02, 0.04])


def test_probed_responder_notes_the_server_cpu_at_arrival() -> None:
    marks: dict[str, float] = {}
    reply = chat_drive.probed(chat_drive.paced_reply(3, 0.1), lambda: 7.5, marks)
    chunks = reply(Recorded("hello", 0, None))
    assert marks == {"hello": 7.5}
    assert [c for c in chunks if isinstance(c, dict)] == [
        {"content": "tok0 "}, {"content": "tok1 "}, {"content": "tok2 "}
    ]  # fmt: skip
    assert chunks.count(("sleep", 0.1)) == 2


def test_api_content_lines() -> None:
    assert chat_drive.has_content('data: {"choices": [{"delta": {"content": "hi"}}]}')
    assert not chat_drive.has_content('data: {"choices": [{"delta": {"role": "assistant"}}]}')
    assert not chat_drive.has_content("data: [DONE]") and not chat_drive.has_content(": ping")


def test_report_has_the_issue_keys_and_the_old_results() -> None:
    latency = {
        "requests": 200,
        "pre_backend_ms": chat_figures.stats([10.0, 20.0]),
        "first_token_relay_ms": chat_figures.stats([1.0, 2.0]),
        "added_before_first_token_ms": chat_figures.stats([11.0, 22.0]),
    }
    window = chat_figures.CpuWindow(server_s=4.0, wall_s=8.0, harness_s=2.0, db_s=1.0)
    rows = [
        chat_figures.run_row(path=path, concurrency=level, answer_tokens=12, turns=200,
                             latency=latency, window=window, tokens=2400, frames=400,
                             fixed_turn_s=0.01, pre_backend_cpu=[0.005] if level == 1 else None)
        for level in (1, 100) for path in ("browser", "api")
    ]  # fmt: skip
    report = chat_figures.report(machine={"cpus": 2}, settings={}, calibration=[], runs=rows)
    first = report["runs"][0]
    for key in ["concurrency", "p50_added_ms", "p95_added_ms", "cpu_ms_per_turn",
                "cpu_us_per_token", "path"]:  # fmt: skip
        assert key in first
    assert first["p50_added_ms"] == 16.5 and first["errors"] == 0
    assert first["cpu_ms_per_turn"] == 20.0
    assert first["cpu_us_per_token"] == pytest.approx((4.0 - 2.0) / 2200 * 1e6, abs=0.1)
    assert first["cpu_ms_pre_backend"] == 5.0 and report["runs"][2]["cpu_ms_pre_backend"] is None
    assert first["db_cpu_ms_per_turn"] == 5.0
    assert (first["server_core_share"], first["harness_core_share"]) == (0.5, 0.25)
    assert [r["concurrency"] for r in report["runs"]] == [1, 1, 100, 100]
    assert list(report["results"]) == [
        "concurrency_1", "api_concurrency_1", "concurrency_100", "api_concurrency_100"
    ]  # fmt: skip
    assert report["results"]["api_concurrency_100"]["path"] == "api"
    assert report["benchmark"] == "chat_overhead" and report["machine"] == {"cpus": 2}
