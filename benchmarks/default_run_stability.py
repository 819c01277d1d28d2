"""Two back-to-back default `hwbench run`s: each case's median within +-5% of the other's, and
the wall time of each run (target <= 3 minutes on a 2-core machine).

The first pair runs as a user does (each step case's sampling split into 3 passes taken in
turns with the other cases, hwbench.execution.interleave); the second with --passes 1 (each case
measured in one go, as hwbench did before interleaving), so the two show what interleaving
buys on the same machine in the same half hour. (An earlier version of this script compared
OMP_NUM_THREADS=1 instead; see git history.) A last check times one resnet50 step in
2-second windows inside one process, at 2 threads and at 1, to show that the drift is there
before any harness.

Run: python benchmarks/default_run_stability.py [MACHINE]   (about 15 minutes on 2 cores)
With MACHINE, the second run's result file is kept as results/MACHINE/<timestamp>-default.json.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import HERE, publish
from rich.table import Table

from hwbench.results import store


def default_run(out: Path, machine: str = "m", args: tuple = ()) -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hwbench", "run", "--out", str(out), "--machine", machine, *args],
        check=False,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    path = max((out / machine).glob("*-default.json"))
    return elapsed, store.load(path)


def medians(document: dict) -> dict[str, float]:
    found = {}
    for case in document["cases"]:
        if case.status == "ok":
            k = case.key
            label = f"{k['workload']} {k['engine']}@{k['device']} {k['dtype']} {k['scenario']} "
            found[label + f"b{k['batch']}"] = case.metrics["latency_ms"]["p50"]
    return found


WINDOWS = """
import statistics, sys, time, torch
from hwbench.workloads import make_workload
w = make_workload("resnet50", "tiny", 0)
model, x = w.build().eval(), w.inputs(1, seed=1)
with torch.inference_mode():
    for _ in range(50):
        model(*x)
    for _ in range(8):
        times, end = [], time.perf_counter() + 2
        while time.perf_counter() < end:
            start = time.perf_counter_ns()
            model(*x)
            times.append(time.perf_counter_ns() - start)
        print(f"{statistics.median(times) / 1e6:.2f}", flush=True)
"""


def windows(threads: int) -> list[str]:
    """Median resnet50 tiny step (ms) in 8 consecutive 2 s windows of one process."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    out = subprocess.run([sys.executable, "-c", WINDOWS], env=env, capture_output=True, text=True)
    return out.stdout.split()


def pair(machine: str | None, args: tuple = ()) -> tuple[float, float, dict, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        first_s, first = default_run(Path(tmp, "a"), args=args)
        if machine:
            second_s, second = default_run(HERE.parent / "results", machine, args)
        else:
            second_s, second = default_run(Path(tmp, "b"), args=args)
    return first_s, second_s, medians(first), medians(second)


def main() -> None:
    machine = sys.argv[1] if len(sys.argv) > 1 else None
    runs = {
        "3 interleaved passes (default)": pair(machine),
        "--passes 1": pair(None, ("--passes", "1")),
    }
    table = Table("case", title="stability of two back-to-back default runs: median ms")
    for name in runs:
        table.add_column(f"{name}: run 1, run 2")
        table.add_column("ratio")
    labels = sorted(set.intersection(*(set(a) & set(b) for _, _, a, b in runs.values())))
    worst = {name: ("", 0.0) for name in runs}
    for label in labels:
        cells = []
        for name, (_, _, a, b) in runs.items():
            ratio = b[label] / a[label]
            worst[name] = max(worst[name], (label, abs(ratio - 1)), key=lambda item: item[1])
            cells += [f"{a[label]:.4f}, {b[label]:.4f}", f"{ratio:.3f}"]
        table.add_row(label, *cells)
    notes = []
    for name, (first_s, second_s, a, b) in runs.items():
        gaps = sorted(abs(b[k] / a[k] - 1) for k in labels)
        within = sum(gap <= 0.05 for gap in gaps)
        notes += [
            f"{name}: wall time of `hwbench run` {first_s:.0f} s and {second_s:.0f} s (target "
            f"<= 180 s); worst case {worst[name][0]} differs by {worst[name][1]:.1%} (target "
            f"<= 5%); {within} of {len(labels)} cases within 5%; |ratio - 1| median "
            f"{statistics.median(gaps):.1%}, p90 {gaps[int(0.9 * (len(gaps) - 1))]:.1%}"
        ]
    notes += [
        f"one process, resnet50 tiny step median per 2 s window, 2 threads: "
        f"{' '.join(windows(2))} ms; 1 thread: {' '.join(windows(1))} ms",
        f"{len(labels)} cases ok in every run",
    ]
    publish("default_run_stability", table, notes)


if __name__ == "__main__":
    main()
