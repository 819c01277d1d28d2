"""The core's rebuild must not move the numbers: the same cases timed by the install before it
(arm A) and after it (arm B), interleaved ABBA in one job, judged as `hwbench ab` judges.

Each arm is a persistent worker under its own interpreter, loaded once per case: A the last
commit before the rebuild (its worker is `python -m hwbench.ab_worker`), B this checkout (`python
-m hwbench.execution.worker`). Both answer {"op": "load"} and {"op": "time", "count", "loops"}
the same way, which is all an A/B run asks of them; the blocks, the ratio and the verdict are
hwbench's own (hwbench.execution.ab.abba, the trimmed-mean paired ratio, hwbench.analysis.gate
with Holm's correction across the cases). Each case runs in both orientations (old as arm a,
then new as arm a) and the blocks of both are pooled, since the arm loaded first moves a case
by itself on this machine. Cases: mlp, bert and llama tiny, latency (batch 1) and
throughput (batch 8).

Arm A's install: git worktree add /tmp/hwbench-old 8176f75; python3 -m venv /tmp/oldvenv;
point it at this checkout's site-packages (a .pth file naming .venv/lib/python3.11/
site-packages); /tmp/oldvenv/bin/pip install --no-deps -e /tmp/hwbench-old.
Run: python benchmarks/restructure_ab.py --old-python /tmp/oldvenv/bin/python
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from typing import Any

import numpy as np
from _report import publish
from rich.table import Table

from hwbench.analysis.compare import paired_ratio
from hwbench.analysis.gate import Outcome, RatioGate, judge
from hwbench.case import Case
from hwbench.execution.ab import abba, block_ratio, log_ratios, pooled

BEFORE_COMMIT = "8176f75"
CASES = [
    (w, s, b) for w in ("mlp", "bert", "llama") for s, b in (("latency", 1), ("throughput", 8))
]
BLOCKS, PER_HALF = 40, 3
THRESHOLD, ALPHA = 0.05, 0.01


class Arm:
    """A worker under `python` running `module`, speaking JSON lines on stdin/stdout."""

    def __init__(self, python: str, module: str) -> None:
        self.proc = subprocess.Popen(
            [python, "-m", module], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        self.loops = 1

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        reply = json.loads(self.proc.stdout.readline())
        if not reply["ok"]:
            raise RuntimeError(reply["error"])
        return reply

    def load(self, case: Case) -> int:
        self.loops = self.ask({"op": "load", "case": case.to_json()})["loops"]
        return self.loops

    def samples(self, count: int) -> list[float]:
        return self.ask({"op": "time", "count": count, "loops": self.loops})["samples_ns"]

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def blocks_of(case: Case, a: tuple[str, str], b: tuple[str, str]) -> list[dict]:
    """ABBA blocks of `case` with arm a and arm b as (python, worker module), a loaded first."""
    arms = {"a": Arm(*a), "b": Arm(*b)}
    try:
        loops = max(arm.load(case) for arm in arms.values())  # one sample length for both
        for arm in arms.values():
            arm.loops = loops
        return abba(arms, BLOCKS, PER_HALF)
    finally:
        for arm in arms.values():
            arm.close()


def measure(old_python: str) -> list[tuple[Outcome, float, float]]:
    """Per case: the outcome on log(after / before) pooled over both orientations, and the
    ratio each orientation gave alone (old as arm a, then new as arm a)."""
    old, new = (old_python, "hwbench.ab_worker"), (sys.executable, "hwbench.execution.worker")
    rows = []
    for workload, scenario, batch in CASES:
        case = Case(workload, "tiny", "torch@cpu", scenario, batch)
        old_first, new_first = blocks_of(case, old, new), blocks_of(case, new, old)
        after_over_before = log_ratios(old_first) + [-r for r in log_ratios(new_first)]
        before = pooled(old_first, "a") + pooled(new_first, "b")
        after = pooled(old_first, "b") + pooled(new_first, "a")
        label = f"{workload}/tiny {scenario} b{batch}"
        outcome = Outcome(
            label,
            "PASS",
            ratio=paired_ratio(after_over_before),
            baseline_ms=float(np.median(before)) / 1e6,
            candidate_ms=float(np.median(after)) / 1e6,
        )
        rows.append((outcome, block_ratio(old_first).estimate, 1 / block_ratio(new_first).estimate))
    judge([o for o, _, _ in rows], RatioGate(field="per-block min", threshold=THRESHOLD), ALPHA)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-python", required=True, help="the interpreter of arm A's install")
    args = parser.parse_args()
    rows = measure(args.old_python)
    table = Table(
        "case (torch@cpu, fp32)",
        "before ms",
        "after ms",
        "after / before",
        "CI (Holm)",
        "verdict",
        "old as a",
        "new as a",
        title=f"the core rebuilt: {BEFORE_COMMIT} (A) against this checkout (B), ABBA",
    )
    for o, old_first, new_first in rows:
        low, high = o.interval or (float("nan"), float("nan"))
        table.add_row(
            o.label,
            f"{o.baseline_ms:.4g}",
            f"{o.candidate_ms:.4g}",
            f"{o.ratio.estimate:.3f}",
            f"{low:.3f}-{high:.3f}",
            f"{o.verdict} {o.message}".strip(),
            f"{old_first:.3f}",
            f"{new_first:.3f}",
        )
    fails = sum(o.verdict == "FAIL" for o, _, _ in rows)
    publish(
        "restructure_ab",
        table,
        [
            f"A: {args.old_python} running hwbench {BEFORE_COMMIT} (before the rebuild); "
            "B: this checkout; both torch 2.13 CPU, one job, one machine",
            f"{BLOCKS} ABBA/BAAB blocks of {PER_HALF} samples per arm per half; per block "
            "log(min B / min A); 20% trimmed mean with Yuen's interval; FAIL when the "
            f"Holm-corrected {1 - ALPHA:.0%} interval lies above 1 and the slowdown exceeds "
            f"{THRESHOLD:.0%} (hwbench ab's rule); INCONCLUSIVE when the interval reaches past "
            "the threshold without showing a slowdown past it",
            "Each case is run twice, old install as arm a (loaded first) then new as arm a, "
            f"{BLOCKS} blocks each, and the per-block log(after / before) of both runs pooled: "
            "which arm is loaded first moves a case by itself (A/A on bert tiny throughput b8, "
            "one install as both arms, gave B/A 0.706-0.971 in four runs here), and the two "
            "orientations cancel that; the last two columns give each orientation's after / "
            "before alone",
            f"{fails} of {len(rows)} cases FAIL",
        ],
    )


if __name__ == "__main__":
    main()
