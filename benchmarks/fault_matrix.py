"""The fault matrix: every fault tests/faults/ injects, what hwbench kept, the exit code it
ended with, and whether the test that checks it passed. The tests are the check (they run in
CI with the rest); this script runs them and prints their rows as one table.

Run: python benchmarks/fault_matrix.py > benchmarks/fault_matrix.txt   (about 5 minutes on
2 cores). Exit codes: 0 all ok, 1 a case failed (the run went on), 2 bad input, 74 an output
could not be written, 130 Ctrl-C, 143 SIGTERM; "-" where the fault is injected inside a
function (no process exits).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).parents[1]
MATRIX_ENV = "HWBENCH_FAULT_MATRIX"  # as tests/faults/conftest.py reads it


def rows() -> tuple[list[dict], float, str]:
    """Each test's row, the seconds the suite took and pytest's summary line."""
    with tempfile.TemporaryDirectory() as tmp:
        matrix = Path(tmp) / "rows.jsonl"
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/faults"],
            cwd=ROOT,
            env={**os.environ, MATRIX_ENV: str(matrix)},
            capture_output=True,
            text=True,
        )
        took = time.monotonic() - started
        found = [json.loads(line) for line in matrix.read_text().splitlines()]
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr
    return found, took, summary


def main() -> None:
    found, took, summary = rows()
    table = Table("#", "fault", "kept", "exit", "test", title="hwbench fault matrix", width=140)
    for index, row in enumerate(sorted(found, key=lambda r: r["test"]), start=1):
        code = "-" if row["exit"] is None else str(row["exit"])
        table.add_row(str(index), row["fault"], row["kept"], code, row["outcome"])
    console = Console(width=140, force_terminal=False, color_system=None)
    console.print(table)
    passed = sum(row["outcome"] == "passed" for row in found)
    console.print(f"{passed} of {len(found)} rows passed; pytest tests/faults: {summary}")
    console.print(f"took {took:.0f} s on {os.cpu_count()} cores (python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
