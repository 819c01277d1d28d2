"""One query at a time at batch 1 (MLPerf SingleStream, whose headline is the p90 latency)."""

from __future__ import annotations

from hwbench.scenarios.step import StepScenario
from hwbench.workloads.base import Workload


class Latency(StepScenario):
    name = "latency"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (1,)
