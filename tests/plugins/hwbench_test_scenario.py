"""A scenario added from outside hwbench, in one file: each case's step timed at batch 3.
Loaded through HWBENCH_PLUGINS by tests/e2e/test_scenario_plugin.py."""

from __future__ import annotations

from hwbench.scenarios.step import StepScenario
from hwbench.workloads.base import Workload


class BatchOfThree(StepScenario):
    name = "test-batch3"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return (3,)
