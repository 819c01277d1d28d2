"""vLLM's OpenAI-compatible server under load: requests sent at Poisson (gamma) arrivals at
one request rate per case, every token streamed and timed; vLLM-bench-compatible fields and
goodput under the SLOs given. The case's batch is the number of requests it sends."""

from __future__ import annotations

import math
from typing import ClassVar

from hwbench.scenarios.base import Scenario
from hwbench.workloads.base import Workload


class Serve(Scenario):
    name = "serve"
    kind = "serve"
    headline = "throughput"  # output tokens/s
    default_requests: ClassVar[tuple[int, ...]] = (64,)
    default_rates: ClassVar[tuple[float, ...]] = (4.0, 16.0, math.inf)  # requests/s

    def applies(self, workload: Workload) -> bool:
        return workload.family == "decoder"

    def batches(self, workload: Workload, requested: tuple[int, ...]) -> tuple[int, ...]:
        return requested or self.default_requests


def rate_text(rate: float) -> str:
    """A request rate as written in keys and tables: '4', '0.5', 'inf'."""
    return "inf" if math.isinf(rate) else f"{rate:g}"
