"""hwbench's median latency against torch.utils.benchmark's blocked_autorange, same module and
inputs, same run, interleaved. Target: within +-3% for mlp and llama at tiny size, batch 1.

Run: python benchmarks/reference_agreement.py
"""

from __future__ import annotations

import statistics

import torch
import torch.utils.benchmark as tbench
from _report import publish
from rich.table import Table

from hwbench.backends.cpu import CPU
from hwbench.engines.base import Spec
from hwbench.engines.torch_eager import TorchEager
from hwbench.measure.harness import HarnessConfig, measure
from hwbench.workloads import make_workload

ROUNDS = 15  # short interleaved rounds: drift on a shared machine hits both alike
ROUND_S = 1.0
WORKLOADS = ("mlp", "llama")


def hwbench_median_ms(session, placed) -> float:
    result = measure(
        lambda: session.run(placed), CPU().timer(), HarnessConfig(time_budget_s=ROUND_S)
    )
    return statistics.median(result.samples_ns) / 1e6


def torch_median_ms(session, placed) -> float:
    timer = tbench.Timer(
        stmt="session.run(placed)",
        globals={"session": session, "placed": placed},
        num_threads=torch.get_num_threads(),
    )
    return timer.blocked_autorange(min_run_time=ROUND_S).median * 1e3


def compare(name: str) -> tuple[float, float, float]:
    workload = make_workload(name, "tiny")
    session = TorchEager().prepare(Spec(workload, CPU()))
    placed = session.place(workload.inputs(1, seed=1))
    ours, theirs = [], []
    for _ in range(ROUNDS):  # interleaved A/B rounds
        ours.append(hwbench_median_ms(session, placed))
        theirs.append(torch_median_ms(session, placed))
    ratios = [a / b for a, b in zip(ours, theirs, strict=True)]
    return statistics.median(ours), statistics.median(theirs), statistics.median(ratios)


def main() -> None:
    table = Table(
        "workload (tiny, b1, fp32)",
        "hwbench median ms",
        "blocked_autorange ms",
        "ratio (median of rounds)",
        "within +-3%",
        title="agreement with torch.utils.benchmark",
    )
    for name in WORKLOADS:
        ours, theirs, ratio = compare(name)
        table.add_row(
            name,
            f"{ours:.4f}",
            f"{theirs:.4f}",
            f"{ratio:.4f}",
            "yes" if abs(ratio - 1) <= 0.03 else "NO",
        )
    publish(
        "reference_agreement",
        table,
        [
            f"{ROUNDS} interleaved rounds per workload, {ROUND_S:g} s per arm: hwbench's "
            "default HarnessConfig with that time budget, blocked_autorange with that "
            "min_run_time"
        ],
    )


if __name__ == "__main__":
    main()
