"""A batch-size sweep, samples per second at each (MLPerf Offline's metric, per batch)."""

from __future__ import annotations

from hwbench.scenarios.base import Scenario
from hwbench.workloads.base import Workload


class Throughput(Scenario):
    name = "throughput"
    headline = "throughput"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or workload.default_batches[workload.size]
