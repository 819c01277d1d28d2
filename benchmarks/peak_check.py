"""`hwbench peak`'s machinery on this CPU against a direct torch matmul and tensor copy.

Both are timed in the same run, in many short rounds in ABBA order (each round: best of a few
runs), so both meet the same quiet and busy moments of a shared machine. fp32 GEMM, bf16 GEMM
and copy bandwidth must agree within 10%, judged on the medians of the paired round rates; the
best over all rounds is printed too. Writes the table, with the machine described, to
peak_check.txt.

Usage: python benchmarks/peak_check.py [--runs 3] [--rounds 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

import torch
from rich.console import Console
from rich.table import Table

from hwbench.backends.cpu import CPU
from hwbench.commands.peak import PeakSettings, copy_rate, gemm_rate

TOLERANCE = 0.10
OUTPUT = Path(__file__).with_name("peak_check.txt")
Rate = Callable[[], float]
NOTE = (
    "Each round: hwbench's gemm_rate / copy_rate (best of {runs} runs) and a plain perf_counter "
    "loop "
    "(best of the same number), ABBA order. Verdict on the medians of the paired round rates; "
    "the best over all rounds is shown too, but on a shared machine it follows whichever arm "
    "met the quietest moment."
)


def direct_best_s(op: Callable[[], object], runs: int) -> float:
    """Shortest of `runs` perf_counter-timed calls of `op` (CPU ops are synchronous)."""
    op()
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        op()
        best = min(best, time.perf_counter() - start)
    return best


def direct_gemm(dtype: torch.dtype, n: int, runs: int) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    return 2 * n**3 / direct_best_s(lambda: a @ b, runs)  # FLOP/s


def direct_copy(size: int, runs: int) -> float:
    src = torch.full((size // 4,), 1.5)
    dst = torch.empty_like(src)
    return 2 * size / direct_best_s(lambda: dst.copy_(src), runs)  # read + write bytes/s


def interleaved(ours: Rate, theirs: Rate, rounds: int) -> tuple[list[float], list[float]]:
    """Each one's rate per round, alternating which goes first (ABBA) so drift cancels."""
    rates: tuple[list[float], list[float]] = ([], [])
    for r in range(rounds):
        for i in (0, 1) if r % 2 == 0 else (1, 0):
            rates[i].append((ours, theirs)[i]())
    return rates


Row = tuple[str, str, list[float], list[float]]


def compare(settings: PeakSettings, rounds: int) -> list[Row]:
    """(measure, size, hwbench rates, direct rates) for fp32 GEMM, bf16 GEMM and copy."""
    cpu, runs = CPU(), settings.runs
    rows = []
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        n = gemm_rate(cpu, name, replace(settings, runs=1))["n"]  # hwbench's own sizing
        fixed = replace(settings, min_n=n, max_n=n)  # sized once, as `hwbench peak` sizes it
        ours, theirs = interleaved(
            lambda name=name, fixed=fixed: gemm_rate(cpu, name, fixed)["flops_per_s"] / 1e9,
            lambda dtype=dtype, n=n: direct_gemm(dtype, n, runs) / 1e9,
            rounds,
        )
        rows.append((f"GEMM {name} (GFLOP/s)", f"n={n}", ours, theirs))
    ours, theirs = interleaved(
        lambda: copy_rate(cpu, settings)["bytes_per_s"] / 1e9,
        lambda: direct_copy(settings.copy_mib * 2**20, runs) / 1e9,
        rounds,
    )
    rows.append(("copy read+write (GB/s)", f"{settings.copy_mib} MiB", ours, theirs))
    return rows


def machine() -> str:
    info = CPU().info()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (
        f"{info['name']} ({info['arch']}), {info['logical_cores']} logical cores, "
        f"{info['memory_bytes'] / 2**30:.0f} GiB; torch {torch.__version__} with "
        f"{torch.get_num_threads()} threads; load average {load}; shared with other tenants"
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per round")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved rounds (ABBA)")
    args = parser.parse_args(argv)
    command = "python benchmarks/peak_check.py " + " ".join(argv)
    settings = PeakSettings(runs=args.runs, warmup=1)
    rows = compare(settings, args.rounds)
    columns = ("hwbench best", "direct best", "ratio", "hwbench median", "direct median", "ratio")
    table = Table("measure", "size", *columns, "within 10%")
    failed = 0
    for name, size, ours, theirs in rows:
        best = max(ours) / max(theirs)
        typical = median(ours) / median(theirs)
        ok = abs(typical - 1) <= TOLERANCE
        failed += not ok
        cells = (max(ours), max(theirs), best, median(ours), median(theirs), typical)
        table.add_row(name, size, *(f"{x:.4g}" for x in cells), str(ok))
    console = Console(record=True, width=130)
    console.print(f"{command.strip()}  ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    console.print(f"machine: {machine()}")
    console.print(table)
    console.print(NOTE.format(runs=args.runs))
    OUTPUT.write_text(console.export_text())
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
