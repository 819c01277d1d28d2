"""Median latency (batch 1) and throughput (batch 8) of every workload x engine on this CPU,
tiny and small, fp32 and bf16, measured in one `hwbench run`; parity is checked for each.

Run: python benchmarks/engines_cpu.py   (about 15-20 minutes on 2 cores)
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _report import HERE, publish
from rich.table import Table

from hwbench.results import store


def run_suite(out: Path) -> dict:
    suite = HERE / "engines_cpu.toml"
    cmd = [
        sys.executable,
        "-m",
        "hwbench",
        "run",
        "--suite",
        str(suite),
        "--out",
        str(out),
        "--machine",
        "m",
    ]
    subprocess.run(cmd, check=False, capture_output=True)
    [path] = (out / "m").glob("*.json")
    return store.load(path)


def cell(case: dict | None, field: str) -> str:
    if case is None:
        return ""
    if case.status != "ok":
        return f"{case.status}: {case.reason[:48]}"
    if field == "latency":
        return f"{case.metrics['latency_ms']['p50']:.3f} ms"
    return f"{case.metrics['throughput']:.4g}/s"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        document = run_suite(Path(tmp))
    rows: dict[tuple, dict[str, dict]] = {}
    for case in document["cases"]:
        k = case.key
        row = rows.setdefault((k["workload"], k["size"], k["engine"], k["dtype"]), {})
        row[k["scenario"]] = case
    table = Table(
        "workload",
        "size",
        "engine",
        "dtype",
        "latency b1 (median)",
        "throughput b8 (at median)",
        "parity rel-L2 (b1)",
        title="engines on this CPU (hwbench run --suite benchmarks/engines_cpu.toml)",
    )
    for (workload, size, engine, dtype), row in rows.items():
        latency = row.get("latency")
        parity = (latency.parity or {}).get("rel_l2") if latency else None
        table.add_row(
            workload,
            size,
            engine,
            dtype,
            cell(row.get("latency"), "latency"),
            cell(row.get("throughput"), "throughput"),
            "" if parity is None else f"{parity:.1e}",
        )
    statuses = [c.status for c in document["cases"]]
    publish(
        "engines_cpu",
        table,
        [
            f"{statuses.count('ok')} ok, {statuses.count('skipped')} skipped, "
            f"{statuses.count('failed')} failed; harness time budget 2 s per case"
        ],
    )


if __name__ == "__main__":
    main()
