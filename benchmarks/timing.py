"""Timing helpers shared by the benchmark modules (the machine is shared, so
each timed row records how busy other processes kept it)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from typing import Any


def busy_cpu() -> tuple[float, float, float]:
    """(CPU seconds the whole machine was busy, CPU seconds of this process and
    its waited-for children, wall clock). Off Linux the first is 0."""
    try:
        with open("/proc/stat") as fh:
            user, nice, system, _idle, _iowait, irq, softirq, steal = (
                int(v) for v in fh.readline().split()[1:9]
            )
    except OSError:
        user = nice = system = irq = softirq = steal = 0
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    own = os.times()
    mine = own.user + own.system + own.children_user + own.children_system
    return (user + nice + system + irq + softirq + steal) / ticks, mine, time.perf_counter()


def timed(benchmark: Any, fn: Callable[[], Any], rounds: int = 0, warmup_rounds: int = 0) -> Any:
    """Benchmark ``fn`` (``rounds`` fixed rounds of one call, else
    pytest-benchmark's calibration) and record in ``extra_info["other_cpu"]``
    how many cores other processes kept busy meanwhile. Returns ``fn``'s result."""
    before = busy_cpu()
    if rounds:
        result = benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
    else:
        result = benchmark(fn)
    after = busy_cpu()
    wall = after[2] - before[2]
    others = (after[0] - before[0]) - (after[1] - before[1])
    benchmark.extra_info["other_cpu"] = round(max(0.0, others) / wall, 2) if wall > 0 else 0.0
    return result


def interleaved_ratio(floor: Callable[[], object], fn: Callable[[], object], pairs: int) -> float:
    """The median over ``pairs`` of ``fn``'s time ÷ ``floor``'s, the two
    called one after the other: what slows this shared machine down for a
    while (its neighbours) then weighs on both sides of a pair alike, which
    two medians timed minutes apart do not promise. Shown beside the row's
    own ratio (``interleaved_ratio=`` in its notes)."""
    ratios = []
    for _ in range(pairs):
        start = time.perf_counter()
        floor()
        mid = time.perf_counter()
        fn()
        ratios.append((time.perf_counter() - mid) / (mid - start))
    return round(statistics.median(ratios), 3)
