"""Two back-to-back default `hwbench run`s: each case's median within +-5% of the other's, and
the wall time of each run (target <= 3 minutes on a 2-core machine).

Run: python benchmarks/default_run_stability.py [MACHINE]
With MACHINE, the second run's result file is kept as results/MACHINE/<timestamp>-default.json.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import HERE, publish
from rich.table import Table

from hwbench import results


def default_run(out: Path, machine: str = "m") -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "hwbench", "run", "--out", str(out), "--machine", machine],
        check=False,
        capture_output=True,
    )
    elapsed = time.perf_counter() - start
    path = max((out / machine).glob("*-default.json"))
    return elapsed, results.load(path)


def medians(document: dict) -> dict[str, float]:
    found = {}
    for case in document["cases"]:
        if case["status"] == "ok":
            k = case["key"]
            label = f"{k['workload']} {k['engine']}@{k['device']} {k['dtype']} {k['scenario']} "
            found[label + f"b{k['batch']}"] = case["metrics"]["latency_ms"]["p50"]
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        first_s, first = default_run(Path(tmp, "a"))
        if len(sys.argv) > 1:
            second_s, second = default_run(HERE.parent / "results", sys.argv[1])
        else:
            second_s, second = default_run(Path(tmp, "b"))
    a, b = medians(first), medians(second)
    table = Table(
        "case",
        "run 1 median ms",
        "run 2 median ms",
        "run 2 / run 1",
        title="stability of two back-to-back default runs",
    )
    worst = ("", 0.0)
    for label in sorted(a.keys() & b.keys()):
        ratio = b[label] / a[label]
        worst = max(worst, (label, abs(ratio - 1)), key=lambda item: item[1])
        table.add_row(label, f"{a[label]:.4f}", f"{b[label]:.4f}", f"{ratio:.3f}")
    statuses = [c["status"] for d in (first, second) for c in d["cases"]]
    publish(
        "default_run_stability",
        table,
        [
            f"wall time of `hwbench run` (default suite): {first_s:.0f} s and {second_s:.0f} s "
            "(target <= 180 s)",
            f"worst case: {worst[0]} differs by {worst[1]:.1%} (target <= 5%)",
            f"statuses: {statuses.count('ok')} ok, {statuses.count('skipped')} skipped, "
            f"{statuses.count('failed')} failed over both runs",
        ],
    )


if __name__ == "__main__":
    main()
