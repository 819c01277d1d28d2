"""One query at a time at batch 1 (MLPerf SingleStream: its headline is the p90 latency)."""

from __future__ import annotations

from hwbench.scenarios.base import Scenario
from hwbench.workloads.base import Workload


class Latency(Scenario):
    name = "latency"
    headline = "latency_ms.p90"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)
