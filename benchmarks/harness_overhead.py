"""Harness overhead: a no-op step through hwbench's harness against a bare perf_counter_ns loop.

Target: the harness adds <= 1 us per step. Run: python benchmarks/harness_overhead.py
"""

from __future__ import annotations

import statistics
import time

from _report import publish
from rich.table import Table

from hwbench.backends.cpu import CPU
from hwbench.measure.harness import HarnessConfig, measure

ROUNDS = 7
STEPS = 200_000


def noop() -> None:
    pass


def bare_loop_ns() -> float:
    """ns per call of a no-op in a plain loop timed by perf_counter_ns."""
    start = time.perf_counter_ns()
    for _ in range(STEPS):
        noop()
    return (time.perf_counter_ns() - start) / STEPS


def harness_ns() -> float:
    """ns per step, the median sample of hwbench's harness timing the same no-op."""
    config = HarnessConfig(time_budget_s=0.5, min_time_s=0.2)
    return statistics.median(measure(noop, CPU().timer(), config).samples_ns)


def main() -> None:
    bare, harness = [], []
    for _ in range(ROUNDS):  # interleaved, so drift hits both alike
        bare.append(bare_loop_ns())
        harness.append(harness_ns())
    table = Table("method", "median ns/step", "min ns/step", title="harness overhead (no-op)")
    table.add_row("bare perf_counter_ns loop", f"{statistics.median(bare):.1f}", f"{min(bare):.1f}")
    table.add_row("hwbench harness", f"{statistics.median(harness):.1f}", f"{min(harness):.1f}")
    added = statistics.median(harness) - statistics.median(bare)
    verdict = "PASS" if added <= 1000 else "FAIL"
    publish(
        "harness_overhead",
        table,
        [f"added overhead per step: {added:.1f} ns (target <= 1000 ns): {verdict}"],
    )


if __name__ == "__main__":
    main()
