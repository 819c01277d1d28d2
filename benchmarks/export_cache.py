"""The ONNX export cache: a second `onnxruntime` run's prepare_s against the first's, on a
fresh cache directory. Target: at least 10x smaller.

Run: python benchmarks/export_cache.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from _report import publish
from rich.table import Table

from hwbench.results import store

WORKLOADS = ("mlp", "resnet50", "bert", "llama")


def prepare_times(out: Path, env: dict[str, str]) -> dict[str, dict]:
    cmd = [
        sys.executable,
        "-m",
        "hwbench",
        "run",
        "--target",
        "onnxruntime@cpu",
        "--scenario",
        "latency",
        "--check-only",
        "--out",
        str(out),
        "--machine",
        "m",
    ]
    subprocess.run(cmd, check=True, capture_output=True, env=env)
    [path] = (out / "m").glob("*.json")
    return {c.key["workload"]: c for c in store.load(path)["cases"]}


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "HWBENCH_CACHE_DIR": str(Path(tmp, "cache"))}
        first = prepare_times(Path(tmp, "first"), env)
        second = prepare_times(Path(tmp, "second"), env)
    table = Table(
        "workload (tiny, b1)",
        "1st prepare_s",
        "cache",
        "2nd prepare_s",
        "cache",
        "ratio",
        title="ONNX export cache",
    )
    worst = float("inf")
    for name in WORKLOADS:
        a, b = first[name], second[name]
        ratio = a.timings.prepare_s / b.timings.prepare_s
        worst = min(worst, ratio)
        table.add_row(
            name,
            f"{a.timings.prepare_s:.3f}",
            a.session["cache"],
            f"{b.timings.prepare_s:.3f}",
            b.session["cache"],
            f"{ratio:.0f}x",
        )
    verdict = "PASS" if worst >= 10 else "FAIL"
    publish("export_cache", table, [f"smallest ratio {worst:.0f}x (target >= 10x): {verdict}"])


if __name__ == "__main__":
    main()
