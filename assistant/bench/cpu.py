"""Another process' CPU time, read from Linux's own counters, and pinning it to cores.

A process tree's CPU is the sum, over the root and its live descendants, of
utime + stime + cutime + cstime from /proc/<pid>/stat: a descendant that exited and was
reaped moved its time into its parent's cutime/cstime, so nothing is counted twice or
lost between two samples (CPU of a child not yet reaped when it exits is the one gap).
The counters are in clock ticks (USER_HZ, 10 ms here): a delta over a whole run is exact
to a tick or two; per-turn deltas are averaged over many turns.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class ProcStat:
    """The fields of /proc/<pid>/stat that a CPU sample needs (times in ticks)."""

    pid: int
    ppid: int
    utime: int
    stime: int
    cutime: int
    cstime: int

    @property
    def ticks(self) -> int:
        return self.utime + self.stime + self.cutime + self.cstime


def parse_proc_stat(text: str) -> ProcStat:
    """Parse one /proc/<pid>/stat line. The command name (field 2) is in parentheses and
    may hold spaces or parentheses itself, so the fields after it are found from the
    last ')' (proc(5): pid, comm, state, ppid, ... utime is field 14, cstime field 17)."""
    head, _, tail = text.rpartition(")")
    if not head or "(" not in head:
        raise ValueError(f"Not a /proc/<pid>/stat line: {text[:80]!r}")
    pid = int(head.split("(", 1)[0])
    fields = tail.split()  # fields[0] is field 3 (state)
    if len(fields) < 15:
        raise ValueError(f"Too few fields in /proc/{pid}/stat")
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return ProcStat(pid, ppid, utime, stime, cutime, cstime)


def read_stat(pid: int, *, proc: Path = PROC) -> ProcStat | None:
    """The process' stat, or None once it is gone."""
    try:
        return parse_proc_stat((proc / str(pid) / "stat").read_text())
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return None


def descendants(root: int, stats: Iterable[ProcStat]) -> list[int]:
    """`root` and every process below it, from a snapshot of all processes' stats."""
    children: dict[int, list[int]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat.pid)
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def all_stats(*, proc: Path = PROC) -> list[ProcStat]:
    stats = []
    for entry in proc.iterdir():
        if entry.name.isdigit():
            stat = read_stat(int(entry.name), proc=proc)
            if stat is not None:
                stats.append(stat)
    return stats


class TreeCpu:
    """CPU seconds of a process and its descendants.

    `refresh()` looks for descendants again (a /proc scan: do it between runs, not per
    request); `seconds()` reads only the known pids (cheap enough to call per request).
    """

    def __init__(self, root: int, *, proc: Path = PROC) -> None:
        self.root = root
        self.proc = proc
        self.pids = [root]

    def refresh(self) -> list[int]:
        self.pids = descendants(self.root, all_stats(proc=self.proc))
        return self.pids

    def seconds(self) -> float:
        ticks = 0
        for pid in self.pids:
            stat = read_stat(pid, proc=self.proc)
            if stat is not None:
                ticks += stat.ticks
        return ticks / TICKS_PER_S

    def sample(self) -> float:
        """refresh() then seconds(): a sample at a run's boundary."""
        self.refresh()
        return self.seconds()

    def wait_idle(
        self,
        *,
        share: float = 0.02,
        window_s: float = 1.0,
        timeout_s: float = 180.0,
        clock=time.monotonic,
        sleep=time.sleep,
    ) -> tuple[float, float]:
        """Wait until the tree used under `share` of one core over `window_s` (the
        embedding model's warm-up, the tail of a run). Returns (CPU seconds at the
        start of the quiet window, seconds waited). TimeoutError past `timeout_s`."""
        started = clock()
        before = self.sample()
        while True:
            sleep(window_s)
            after = self.sample()
            if after - before < share * window_s:
                return before, clock() - started
            if clock() - started > timeout_s:
                raise TimeoutError(
                    f"pid {self.root} still used {(after - before) / window_s:.0%} of a core "
                    f"after {timeout_s:.0f} s"
                )
            before = after


def parse_cpus(text: str) -> set[int]:
    """A CPU list as taskset -c takes it: "1", "0,2", "0-3,6"."""
    cpus: set[int] = set()
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        low, dash, high = part.partition("-")
        if not low.isdigit() or (dash and not high.isdigit()):
            raise ValueError(f"Not a CPU list: {text!r} (e.g. 0 or 0,2 or 0-3)")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"Not a CPU list: {text!r} ({part} runs backwards)")
        cpus.update(range(first, last + 1))
    if not cpus:
        raise ValueError(f"Not a CPU list: {text!r}")
    return cpus


def pin_threads(pid: int, cpus: set[int], *, proc: Path = PROC) -> int:
    """Pin every thread of one process to `cpus` (affinity is per thread on Linux;
    threads started later inherit their creator's). Returns the threads pinned."""
    try:
        tids = [int(t.name) for t in (proc / str(pid) / "task").iterdir()]
    except FileNotFoundError:
        return 0
    pinned = 0
    for tid in tids:
        try:
            os.sched_setaffinity(tid, cpus)
            pinned += 1
        except ProcessLookupError:
            continue
    return pinned


def pin_tree(root: int, cpus: set[int], *, proc: Path = PROC) -> int:
    """pin_threads for `root` and each of its descendants."""
    return sum(pin_threads(pid, cpus, proc=proc) for pid in descendants(root, all_stats(proc=proc)))


def affinity(pid: int) -> list[int]:
    """The CPUs a process' main thread may run on."""
    try:
        return sorted(os.sched_getaffinity(pid))
    except (ProcessLookupError, OSError):
        return []
