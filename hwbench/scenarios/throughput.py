"""A batch-size sweep, samples per second at each (MLPerf Offline's metric, per batch)."""

from __future__ import annotations

from hwbench.scenarios.step import StepScenario
from hwbench.workloads.base import Workload


class Throughput(StepScenario):
    name = "throughput"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or workload.default_batches[workload.size]
