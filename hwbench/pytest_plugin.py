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
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

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


@pytest.fixture
def hwbench_case(request: pytest.FixtureRequest) -> Callable[..., dict[str, Any]]:
    """A function that benchmarks one hwbench case and returns its record (key, parity)."""

    def run(
        workload: str,
        target: str = "torch@cpu",
        size: str = "tiny",
        batch: int = 1,
        scenario: str = "latency",
        rounds: int | None = None,
        seed: int = 0,
    ) -> dict[str, Any]:
        from hwbench.ab_worker import LoadedCase
        from hwbench.case import Case
        from hwbench.config import Target
        from hwbench.errors import UsageError

        try:
            case = Case(workload, size, str(Target.parse(target)), scenario, batch, seed=seed)
            loaded = LoadedCase(case.to_json())
        except UsageError as error:
            pytest.fail(f"hwbench case {workload}/{size} on {target}: {error}")
        benchmark = _benchmark_fixture(request, DeviceClock(loaded.device))
        benchmark.extra_info.update(hwbench_key=loaded.record["key"], loops=loaded.loops)
        sample_s = max(case.harness.min_sample_s, 1e-6)
        count = rounds or max(5, round(DEFAULT_BUDGET_S / sample_s))
        benchmark.pedantic(loaded.step, rounds=count, iterations=loaded.loops, warmup_rounds=1)
        return loaded.record

    return run
