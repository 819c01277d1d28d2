"""pytest plugin (entry point pytest11): run a hwbench case inside a test, timed for
pytest-benchmark, so `--benchmark-autosave`, `--benchmark-compare` and
`--benchmark-compare-fail=median:5%` work on it.

    def test_mlp(hwbench_case):
        hwbench_case("mlp", target="torch@cpu", size="tiny", batch=1)

The case is prepared in-process, checked against the float32 CPU reference (a parity failure
fails the test), warmed up and calibrated by hwbench's harness (a round lasts >= 10 ms); then
pytest-benchmark times the rounds with a clock that synchronizes the device before each
reading. Do not also request `benchmark`: this fixture sets its timer. A
`@pytest.mark.benchmark(group=...)` marker is kept.

    def test_no_slowdown(hwbench_ab):
        hwbench_ab("mlp", a="python=/main/venv/bin/python:torch@cpu", b="torch@cpu")

`hwbench_ab` times two arms interleaved ABBA in worker processes, as `hwbench ab` does (its
sequential design by default), and fails the test on a FAIL verdict.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from hwbench.analysis.gate import Outcome
    from hwbench.results.record import CaseRecord
    from hwbench.scenarios.step import StepTiming

DEFAULT_BUDGET_S = 1.0  # seconds of rounds when `rounds` is not given


class DeviceClock:
    """perf_counter (s) read after the device has finished its queued work."""

    def __init__(self, device: Any) -> None:
        self.device = device
        self.__name__ = f"DeviceClock[{device.name}]"

    def __call__(self) -> float:
        self.device.synchronize()
        return time.perf_counter()


def _benchmark_fixture(request: pytest.FixtureRequest, clock: DeviceClock) -> Any:
    """pytest-benchmark's fixture for this test, created with `clock` as its timer."""
    if "benchmark" in request.fixturenames:
        pytest.fail("hwbench_case drives pytest-benchmark itself: do not also request `benchmark`")
    marker = request.node.get_closest_marker("benchmark")
    options = {**(marker.kwargs if marker else {}), "timer": clock}
    request.node.add_marker(pytest.mark.benchmark(**options), append=False)
    try:
        return request.getfixturevalue("benchmark")
    except pytest.FixtureLookupError:
        pytest.fail("hwbench_case needs pytest-benchmark: pip install pytest-benchmark")


def _start(
    request: pytest.FixtureRequest,
    workload: str,
    target: str,
    size: str,
    batch: int,
    scenario: str,
    seed: int,
    settings: contextlib.ExitStack,
) -> StepTiming:
    """The case started in this process as a worker starts it: prepared, parity-checked,
    warmed up and calibrated; the test fails with the reason where it cannot be timed."""
    # Late: pytest loads this plugin in every session of an environment with hwbench
    # installed, and these import torch (seconds); only a test that uses the fixture pays.
    from hwbench.case import Case
    from hwbench.config import Target
    from hwbench.errors import UsageError
    from hwbench.execution.worker import start_case
    from hwbench.results.record import CaseRecord
    from hwbench.scenarios.step import StepTiming

    try:
        case = Case(workload, size, str(Target.parse(target)), scenario, batch, seed=seed)
        started = start_case(case, settings)
    except UsageError as error:
        pytest.fail(f"hwbench case {workload}/{size} on {target}: {error}")
    if isinstance(started, CaseRecord):
        pytest.fail(
            f"hwbench case {workload}/{size} on {target} {started.status}: {started.reason}"
        )
    if not isinstance(started, StepTiming):
        pytest.fail(f"hwbench_case times one step (latency, throughput), not {scenario}")
    return started


@pytest.fixture
def hwbench_case(request: pytest.FixtureRequest) -> Callable[..., CaseRecord]:
    """A function that benchmarks one hwbench case and returns its record (key, parity)."""

    def run(
        workload: str,
        target: str = "torch@cpu",
        size: str = "tiny",
        batch: int = 1,
        scenario: str = "latency",
        rounds: int | None = None,
        seed: int = 0,
    ) -> CaseRecord:
        with contextlib.ExitStack() as settings:
            timing = _start(request, workload, target, size, batch, scenario, seed, settings)
            benchmark = _benchmark_fixture(request, DeviceClock(timing.device))
            benchmark.extra_info.update(hwbench_key=timing.checked.key, loops=timing.loops)
            sample_s = max(timing.case.harness.min_sample_s, 1e-6)
            count = rounds or max(5, round(DEFAULT_BUDGET_S / sample_s))
            benchmark.pedantic(timing.step, rounds=count, iterations=timing.loops, warmup_rounds=1)
        return timing.checked

    return run


def _ab(
    workload: str, a: str, b: str, design: Any, threshold: float, alpha: float, **case: Any
) -> Outcome:
    """One case's A/B verdict (hwbench.execution.ab_suite, `design`)."""
    from hwbench.analysis.gate import PASS, Outcome, judge
    from hwbench.case import Case
    from hwbench.execution.ab import ArmSpec, CaseArms
    from hwbench.execution.ab_suite import CaseRun, run_cases

    specs = {"a": ArmSpec.parse(a), "b": ArmSpec.parse(b)}
    timeout_s = case.pop("timeout_s")
    cases = {name: Case(workload, target=spec.target, **case) for name, spec in specs.items()}
    label = f"{workload}/{case['size']} {case['scenario']} b{case['batch']}: {b} / {a}"
    run, gate = CaseRun(label, design.looks), design.gate(threshold)
    arms = CaseArms(specs, {label: cases}, timeout_s)
    run_cases([run], lambda c: arms.open(c.label, c.blocks), gate, alpha, design.samples,
              design.budget_s)  # fmt: skip
    outcome = Outcome(label, PASS, ratio=run.ratio(), sampling=run.sampling)
    return judge([outcome], gate, alpha)[0]


@pytest.fixture
def hwbench_ab() -> Callable[..., Outcome]:
    """A function that compares arms `a` and `b` (TARGET or python=PATH:TARGET) on one case,
    interleaved ABBA, and fails the test when b is slower than a past `threshold`; it returns
    the verdict (ratio, interval, blocks taken and why sampling stopped)."""

    def run(
        workload: str,
        a: str,
        b: str,
        size: str = "tiny",
        batch: int = 1,
        scenario: str = "latency",
        seed: int = 0,
        threshold: float = 0.05,
        alpha: float = 0.01,
        design: str = "sequential",
        budget_s: float | None = None,
        samples: int = 5,
        timeout_s: float = 600.0,
    ) -> Outcome:
        from hwbench.analysis.gate import FAIL
        from hwbench.errors import UsageError
        from hwbench.execution.ab_suite import Design

        try:
            how = Design(design, samples=samples, budget_s=budget_s)
            outcome = _ab(workload, a, b, how, threshold, alpha, size=size, batch=batch,
                          scenario=scenario, seed=seed, timeout_s=timeout_s)  # fmt: skip
        except UsageError as error:
            pytest.fail(f"hwbench A/B {workload}/{size}: {error}")
        if outcome.verdict == FAIL:
            pytest.fail(f"hwbench A/B {outcome.label}: {outcome.message} ({outcome.sampling})")
        return outcome

    return run
