"""The scenario contract: which batch sizes a case runs at and what it reports."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from hwbench.harness import Measurement
from hwbench.stats import summarize
from hwbench.workloads.base import Workload

NS_PER_MS = 1e6


class Scenario(ABC):
    name: ClassVar[str]
    headline: ClassVar[str]  # the metric a table leads with
    # "step": the harness times one forward; "generate" / "serve": token by token
    kind: ClassVar[str] = "step"

    def applies(self, workload: Workload) -> bool:
        """Whether this scenario means something for `workload`."""
        return True

    @abstractmethod
    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        """Batch sizes to run; `requested` is the user's list (empty for the default)."""

    def metrics(self, measurement: Measurement, batch: int) -> dict[str, Any]:
        """Latency of one step in ms (percentiles, spread, the median's CI) and throughput
        in samples/s: batch over the median step, and over the whole timed window."""
        latency = {
            k: v / NS_PER_MS if k != "n" else v
            for k, v in summarize(measurement.samples_ns).items()
        }
        steps = len(measurement.samples_ns) * measurement.loops
        window_s = sum(measurement.samples_ns) * measurement.loops / 1e9
        return {
            "latency_ms": latency,
            "throughput": batch * 1e3 / latency["p50"],  # samples/s at the median step
            "throughput_window": batch * steps / window_s,
            "steps": steps,
        }
