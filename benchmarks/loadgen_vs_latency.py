"""LoadGen SingleStream's 90th percentile against hwbench `latency`'s on the same cases
(torch@cpu, fp32, batch 1, tiny), side by side: per round, in one process, hwbench `latency`
(its default harness), `latency` with one step per sample, and `loadgen-singlestream`, in
A B C C B A order; each through the scenario's own `run`, a fresh session each time, torch
on one thread. Verdict per arm: the median over rounds of LoadGen's p90 / hwbench's p90,
within +-5%.

What each p90 is of:
- LoadGen: each query's latency, one sample each, as LoadGen timed it (issue to
  QuerySamplesComplete; loadgen/results.cc).
- hwbench `latency`: each sample is the mean of `loops` steps, `loops` calibrated so that a
  sample lasts >= 10 ms (README, "How it measures"); averaging shrinks the tail, so its p90
  sits nearer the median than a single step's.
- hwbench `latency`, one step per sample (min_sample_s = 0): the statistic LoadGen computes.
- SUT steps in LG: the p90 of the steps the SUT timed inside that LoadGen run (the record's
  latency_ms): LoadGen's p90 over it is LoadGen's own overhead (issue to completion around
  the step), apart from the machine's speed during the run.

Run: flock /tmp/hwbench-quiet.lock python benchmarks/loadgen_vs_latency.py
(about 2 minutes on a quiet machine)
"""

from __future__ import annotations

import os
import statistics
import tempfile
from dataclasses import replace

import torch
from _report import publish
from rich.table import Table

from hwbench.case import Case
from hwbench.config import Suite, Target
from hwbench.measure.harness import HarnessConfig
from hwbench.registry import lookup
from hwbench.results.logs import LOG_DIR_ENV

WORKLOADS = ("llama", "resnet50")
TARGET = "torch@cpu"
ROUNDS = 4
THREADS = 1
HARNESS = HarnessConfig(time_budget_s=1.0, min_time_s=1.0, passes=1, target_rel_ci=0.0)
ARMS = {  # name -> (scenario, harness)
    "latency": ("latency", HARNESS),
    "latency 1 step/sample": ("latency", replace(HARNESS, min_sample_s=0.0)),
    "loadgen-singlestream": ("loadgen-singlestream", HARNESS),
}
ORDER = ("latency", "latency 1 step/sample", "loadgen-singlestream")
STEPS_IN_LOADGEN: list[float] = []  # p90 of the SUT's own step times in each LoadGen run


def case_for(workload_name: str, arm: str) -> tuple[Case, object]:
    scenario_name, harness = ARMS[arm]
    scenario = lookup("scenarios", scenario_name)()
    suite = Suite(workloads=(workload_name,), targets=(Target.parse(TARGET),),
                  scenarios=(scenario_name,), harness=harness, min_duration_ms=1000)  # fmt: skip
    workload = lookup("workloads", workload_name)("tiny")
    [case] = scenario.cases(workload, suite, Target.parse(TARGET))
    return case, scenario


def p90(workload_name: str, arm: str) -> tuple[float, int]:
    """The arm's p90 in ms and the steps per sample behind it."""
    case, scenario = case_for(workload_name, arm)
    workload = lookup("workloads", workload_name)("tiny")
    device, engine = lookup("devices", "cpu")(), lookup("engines", "torch")()
    record = scenario.run(case, workload, device, engine)
    assert record.status == "ok", record.reason
    if arm == "loadgen-singlestream":
        STEPS_IN_LOADGEN.append(record.metrics["latency_ms"]["p90"])
        return record.details["loadgen"]["p90_ms"], 1
    return record.metrics["latency_ms"]["p90"], record.sampling.loops


def main() -> None:
    os.environ[LOG_DIR_ENV] = tempfile.mkdtemp(prefix="loadgen-vs-latency-")
    # One thread: with torch's 2 on this shared 2-core VM under other tenants' load, a llama
    # tiny step (1 ms alone) took 40-1,400 ms here, each parallel region waiting for a thread
    # held off its core (benchmarks/optimum_benchmark_agreement.py saw the same).
    torch.set_num_threads(THREADS)
    table = Table(title="LoadGen SingleStream p90 vs hwbench latency p90 (ms), torch@cpu tiny b1")
    columns = (*ORDER, "SUT steps in LG", "LG / latency", "LG / 1 step", "LG / SUT steps")
    for column in ("workload", "round", *columns):
        table.add_column(column, justify="right")
    verdicts = []
    for name in WORKLOADS:
        ratios: dict[str, list[float]] = {
            "latency": [], "latency 1 step/sample": [], "its own SUT steps": [],
        }  # fmt: skip
        for round_ in range(ROUNDS):
            order = ORDER if round_ % 2 == 0 else tuple(reversed(ORDER))
            got = {}
            for arm in order:
                got[arm] = p90(name, arm)
                print(name, round_ + 1, arm, got[arm], flush=True)
            lg = got["loadgen-singlestream"][0]
            for arm in ORDER[:2]:
                ratios[arm].append(lg / got[arm][0])
            ratios["its own SUT steps"].append(lg / STEPS_IN_LOADGEN[-1])
            table.add_row(
                name, str(round_ + 1),
                *(f"{got[a][0]:.3f}" + (f" ({got[a][1]} steps)" if got[a][1] > 1 else "")
                  for a in ORDER),
                f"{STEPS_IN_LOADGEN[-1]:.3f}",
                f"{ratios['latency'][-1]:.3f}", f"{ratios['latency 1 step/sample'][-1]:.3f}",
                f"{lg / STEPS_IN_LOADGEN[-1]:.3f}",
            )  # fmt: skip
        for arm, values in ratios.items():
            median = statistics.median(values)
            inside = "within" if abs(median - 1) <= 0.05 else "outside"
            verdicts.append(
                f"{name}: LoadGen p90 / {arm} p90 = {median:.3f} (median of {ROUNDS} rounds, "
                f"range {min(values):.3f}-{max(values):.3f}): {inside} +-5%"
            )
    publish("loadgen_vs_latency", table, verdicts)


if __name__ == "__main__":
    main()
