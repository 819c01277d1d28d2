"""The CPU optimization ladder for llama and moe at small size on this machine: each rung's
median step at batch 1 (latency scenario), its gain over the previous rung that passed and over
fp32 eager, parity against the float32 reference, and what preparing it cost.

Each ladder is one `hwbench ladder` run (every rung a case in its own worker process), with the
default thread settings of each engine.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/ladder_cpu.py [--time-budget 3]
(11.4 minutes on 2 cores with a cold ONNX export cache, of which 6.6 exporting moe/small: its
routed loop is data-dependent)
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from _report import publish
from rich.table import Table

from hwbench.execution.ladder import steps
from hwbench.results import store

WORKLOADS = ("llama", "moe")


def climb(workload: str, out: Path, budget: float) -> tuple[dict, float]:
    """The ladder's result document and the wall-clock seconds it took."""
    cmd = [sys.executable, "-m", "hwbench", "ladder", "--workload", workload, "--device", "cpu"]
    cmd += ["--size", "small", "--time-budget", str(budget), "--out", str(out), "--machine", "m"]
    start = time.perf_counter()
    subprocess.run(cmd, check=False, capture_output=True)
    [path] = (out / "m").glob(f"*-ladder-cpu-{workload}.json")
    return store.load(path), time.perf_counter() - start


def gain(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def add_rows(table: Table, workload: str, document: dict) -> None:
    for step in steps(document):
        record = step.record
        parity = record.parity or {}
        error = f"{parity['rel_l2']:.1e} / {parity['tolerance']:g}" if "rel_l2" in parity else ""
        prepare = record.timings.prepare_s
        latency = "" if step.latency_ms is None else f"{step.latency_ms:.2f} ms"
        table.add_row(
            workload,
            step.rung,
            record.status if step.counted else f"{record.status}: {record.reason[:60]}",
            latency,
            gain(step.vs_previous),
            gain(step.vs_first),
            error,
            "" if prepare is None else f"{prepare:.1f} s",
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--time-budget", type=float, default=3.0)
    args = parser.parse_args()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    table = Table("workload", "rung", "status", "median b1", "vs previous", "vs fp32 eager")
    for column in ("parity rel-L2 / tol", "prepare"):
        table.add_column(column)
    table.title = "CPU ladder, small size, latency scenario (hwbench ladder --size small)"
    notes = [f"python benchmarks/ladder_cpu.py --time-budget {args.time_budget}  ({started})"]
    with tempfile.TemporaryDirectory() as tmp:
        for workload in WORKLOADS:
            document, seconds = climb(workload, Path(tmp, workload), args.time_budget)
            add_rows(table, workload, document)
            notes.append(f"{workload}: ladder took {seconds:.0f} s")
    notes.append(f"load average at the end: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    publish("ladder_cpu", table, notes)


if __name__ == "__main__":
    main()
